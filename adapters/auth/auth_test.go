package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fakeAuthority is a small, configurable Authority: discovery plus a token
// endpoint whose answer each test chooses, recording what it received.
type fakeAuthority struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	methods  []string
	issuer   string // "" → the server's URL
	token    func(w http.ResponseWriter, r *http.Request)
	received []*http.Request
	forms    []map[string]string
	noRevoke bool
}

func newFake(t *testing.T) *fakeAuthority {
	f := &fakeAuthority{t: t, methods: []string{"client_secret_basic", "client_secret_post"}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := f.issuer
		if iss == "" {
			iss = f.srv.URL
		}
		doc := map[string]any{"issuer": iss, "token_endpoint": f.srv.URL + "/token", "userinfo_endpoint": f.srv.URL + "/userinfo",
			"jwks_uri": f.srv.URL + "/jwks", "token_endpoint_auth_methods_supported": f.methods}
		if !f.noRevoke {
			doc["revocation_endpoint"] = f.srv.URL + "/revoke"
		}
		_ = json.NewEncoder(w).Encode(doc)
	})
	record := func(r *http.Request) {
		_ = r.ParseForm()
		m := map[string]string{}
		for k, v := range r.PostForm {
			m[k] = v[0]
		}
		f.mu.Lock()
		f.received = append(f.received, r)
		f.forms = append(f.forms, m)
		f.mu.Unlock()
	}
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) { record(r); f.token(w, r) })
	mux.HandleFunc("/revoke", func(w http.ResponseWriter, r *http.Request) { record(r); w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"sub":"operator","name":"Olivia"}`))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.token = answer(200, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`)
	return f
}

func answer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func (f *fakeAuthority) adapter(secret string, logs *bytes.Buffer) *Authority {
	s := domain.Settings{AuthorityURL: f.srv.URL, ClientID: "stella-ci", ClientSecret: domain.NewSecret(secret),
		RequestTimeout: 5 * time.Second, AuthMode: domain.AuthModeBearer}
	if logs == nil {
		logs = &bytes.Buffer{}
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return fresh(New(s, http.DefaultTransport, fixedClock{now}, log, nil, schemeHeaders{}, nil))
}

// fresh gives a test's adapter its own discovery memory: a later test's
// server may get a closed one's port, and must not be taken for it.
func fresh(a *Authority) *Authority {
	a.discovered = newDiscoveries()
	return a
}

// schemeHeaders stands in for the DPoP adapter's credential headers (which
// adapters' tests cannot import): Authorization in the token's scheme.
type schemeHeaders struct{}

func (schemeHeaders) Headers(cred domain.Credential, _, _ string) ([]ports.CredentialHeader, error) {
	if cred.Access.Value.IsZero() {
		return nil, nil
	}
	return []ports.CredentialHeader{{Name: "Authorization", Value: domain.NewSecret(cred.Access.Type + " " + cred.Access.Value.Reveal())}}, nil
}

func (h schemeHeaders) Transport(base http.RoundTripper, cred domain.Credential) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		hs, _ := h.Headers(cred, req.Method, req.URL.String())
		out := req.Clone(req.Context())
		for _, c := range hs {
			out.Header.Set(c.Name, c.Value.Reveal())
		}
		return base.RoundTrip(out)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientCredentialsAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name    string
		methods []string
		basic   bool
	}{
		{"basic by default", []string{"client_secret_basic", "client_secret_post"}, true},
		{"post when only post is offered", []string{"client_secret_post"}, false},
		{"basic when nothing is said", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.methods = tc.methods
			g, err := f.adapter("s3cret", nil).ClientCredentials(context.Background(), ports.TokenRequest{Scopes: domain.Scopes{"packs.read"}, Audience: "https://rs"})
			if err != nil {
				t.Fatal(err)
			}
			id, secret, basic := f.received[0].BasicAuth()
			form := f.forms[0]
			if basic != tc.basic || (basic && (id != "stella-ci" || secret != "s3cret")) || (!basic && form["client_secret"] != "s3cret") {
				t.Fatalf("basic %v id %q form %v", basic, id, form)
			}
			if form["grant_type"] != "client_credentials" || form["scope"] != "packs.read" || form["resource"] != "https://rs" {
				t.Fatalf("form %v", form)
			}
			if g.Access.Value.Reveal() != "at-1" || !g.Access.Expiry.Equal(now.Add(time.Hour)) || g.Access.Scopes.String() != "packs.read" {
				t.Fatalf("grant %+v", g.Access)
			}
		})
	}
}

func jwt(claims string) string {
	return "eyJhbGciOiJub25lIn0." + b64url(claims) + ".c2ln"
}

func TestTokenResponseVariations(t *testing.T) {
	exp := now.Add(30 * time.Minute).Unix()
	cases := []struct {
		name       string
		body       string
		kind       domain.Kind
		wantExpiry time.Time
		wantScopes string
	}{
		{"lower-case bearer", `{"access_token":"a","token_type":"bearer","expires_in":60}`, 0, now.Add(time.Minute), "packs.read"},
		{"upper-case BEARER", `{"access_token":"a","token_type":"BEARER","expires_in":60}`, 0, now.Add(time.Minute), "packs.read"},
		{"expires_in as a string", `{"access_token":"a","token_type":"Bearer","expires_in":"120"}`, 0, now.Add(2 * time.Minute), "packs.read"},
		{"expires_in absent: the JWT's exp", fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer"}`, jwt(fmt.Sprintf(`{"exp":%d}`, exp))), 0, time.Unix(exp, 0).UTC(), "packs.read"},
		{"expires_in zero: unknown", `{"access_token":"a","token_type":"Bearer","expires_in":0}`, 0, time.Time{}, "packs.read"},
		{"expires_in negative: unknown", `{"access_token":"a","token_type":"Bearer","expires_in":-5}`, 0, time.Time{}, "packs.read"},
		{"expires_in absurd: capped", `{"access_token":"a","token_type":"Bearer","expires_in":99999999999}`, 0, now.Add(maxLifetime), "packs.read"},
		{"scope narrowed by the server", `{"access_token":"a","token_type":"Bearer","scope":"packs.read openid"}`, 0, time.Time{}, "openid packs.read"},
		{"DPoP token to a bearer client", `{"access_token":"a","token_type":"DPoP"}`, domain.KindProtocol, time.Time{}, ""},
		{"unknown token type", `{"access_token":"a","token_type":"mac"}`, domain.KindProtocol, time.Time{}, ""},
		{"no access token", `{"token_type":"Bearer"}`, domain.KindProtocol, time.Time{}, ""},
		{"not JSON", `<html>hello</html>`, domain.KindProtocol, time.Time{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.token = answer(200, tc.body)
			g, err := f.adapter("s", nil).ClientCredentials(context.Background(), ports.TokenRequest{Scopes: domain.Scopes{"packs.read"}})
			if tc.kind != 0 {
				if domain.KindOf(err) != tc.kind {
					t.Fatalf("err %v kind %v", err, domain.KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !g.Access.Expiry.Equal(tc.wantExpiry) || g.Access.Scopes.String() != tc.wantScopes || g.Access.Type != "Bearer" {
				t.Fatalf("expiry %v scopes %q type %q", g.Access.Expiry, g.Access.Scopes, g.Access.Type)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		grant  string
		code   int
		msg    string
	}{
		{"invalid_client", 401, `{"error":"invalid_client"}`, "cc", 10, "rejected the client credentials"},
		{"invalid_grant on refresh", 400, `{"error":"invalid_grant","error_description":"revoked"}`, "refresh", 12, "no longer accepts the session"},
		{"invalid_grant on password", 400, `{"error":"invalid_grant"}`, "password", 10, "username or password"},
		{"invalid_scope", 400, `{"error":"invalid_scope"}`, "cc", 11, "refused the scopes"},
		{"unauthorized_client", 400, `{"error":"unauthorized_client"}`, "cc", 10, "may not use"},
		{"access_denied", 400, `{"error":"access_denied"}`, "cc", 17, "denied"},
		{"other 4xx", 400, `{"error":"invalid_request"}`, "cc", 15, "invalid_request"},
		{"5xx JSON", 503, `{"error":"temporarily_unavailable"}`, "cc", 14, "503"},
		{"5xx HTML", 502, `<html>bad gateway</html>`, "cc", 14, "502"},
		{"4xx HTML", 404, `<html>nope</html>`, "cc", 15, "no OAuth error"},
		{"redirect refused", 302, ``, "cc", 15, "redirected the token request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.token = func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 302 {
					http.Redirect(w, r, "https://elsewhere.example.com/token", http.StatusFound)
					return
				}
				answer(tc.status, tc.body)(w, r)
			}
			var logs bytes.Buffer
			a := f.adapter("s3cret-value", &logs)
			var err error
			switch tc.grant {
			case "cc":
				_, err = a.ClientCredentials(context.Background(), ports.TokenRequest{})
			case "refresh":
				_, err = a.Refresh(context.Background(), ports.TokenRequest{}, domain.NewSecret("refresh-token-value"))
			case "password":
				_, err = a.Password(context.Background(), ports.TokenRequest{}, "operator", domain.NewSecret("password-value"))
			}
			if domain.ExitCodeFor(err) != tc.code || !strings.Contains(err.Error(), tc.msg) || domain.HintFor(err) == "" {
				t.Fatalf("err %q code %d", err, domain.ExitCodeFor(err))
			}
			for _, secret := range []string{"s3cret-value", "refresh-token-value", "password-value"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
					t.Fatalf("%s leaked: %s\n%s", secret, err, logs.String())
				}
			}
		})
	}
}

func TestDiscoveryChecks(t *testing.T) {
	f := newFake(t)
	f.issuer = "https://impostor.example.com"
	_, err := f.adapter("s", nil).ClientCredentials(context.Background(), ports.TokenRequest{})
	if domain.ExitCodeFor(err) != 15 || !strings.Contains(err.Error(), "issuer mismatch") {
		t.Fatalf("issuer mismatch: %v", err)
	}

	// Nothing listens: 13, naming the Authority.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	// Both fail at once (refused; a certificate that does not verify): the
	// timeout only bounds a handshake on a loaded machine under -race,
	// where one second was not always enough.
	a := fresh(New(domain.Settings{AuthorityURL: url, ClientID: "c", RequestTimeout: 10 * time.Second}, http.DefaultTransport, fixedClock{now}, slog.Default(), nil, nil, nil))
	if _, err := a.Discover(context.Background()); domain.ExitCodeFor(err) != 13 || !strings.Contains(err.Error(), "the Authority at 127.0.0.1") {
		t.Fatalf("unreachable: %v", err)
	}

	// An untrusted certificate is a security failure, not a network one.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	a = fresh(New(domain.Settings{AuthorityURL: tlsSrv.URL, ClientID: "c", RequestTimeout: 10 * time.Second}, http.DefaultTransport, fixedClock{now}, slog.Default(), nil, nil, nil))
	if _, err := a.Discover(context.Background()); domain.ExitCodeFor(err) != 15 || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("untrusted TLS: %v", err)
	}
}

// Every Authority client of one issuer in a process shares one discovery
// (logout --all builds one per session); a failed discovery is not kept,
// and the same issuer reached in another AuthMode is discovered apart.
func TestDiscoveryOncePerProcess(t *testing.T) {
	var fetches atomic.Int32
	var down atomic.Bool
	down.Store(true)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "token_endpoint": srv.URL + "/token"})
	}))
	defer srv.Close()
	memory := newDiscoveries()
	client := func(mode domain.AuthMode) *Authority {
		a := New(domain.Settings{AuthorityURL: srv.URL, ClientID: "c", AuthMode: mode, RequestTimeout: 5 * time.Second},
			http.DefaultTransport, fixedClock{now}, slog.New(slog.DiscardHandler), nil, nil, nil)
		a.discovered = memory
		return a
	}
	if _, err := client(domain.AuthModeBearer).Discover(context.Background()); domain.KindOf(err) != domain.KindServer {
		t.Fatalf("first discovery: %v", err)
	}
	down.Store(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client(domain.AuthModeBearer).Discover(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if fetches.Load() != 2 {
		t.Fatalf("%d fetches after a failure and 8 clients, want 2", fetches.Load())
	}
	if _, err := client(domain.AuthModeMTLS).Discover(context.Background()); err != nil || fetches.Load() != 3 {
		t.Fatalf("mTLS client: %v, %d fetches", err, fetches.Load())
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFake(t)
	f.token = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"` + strings.Repeat("a", MaxResponseBody+10) + `"}`))
	}
	_, err := f.adapter("s", nil).ClientCredentials(context.Background(), ports.TokenRequest{})
	if domain.ExitCodeFor(err) != 15 {
		t.Fatalf("err %v", err)
	}
}

func TestRefreshWithoutNewRefreshToken(t *testing.T) {
	f := newFake(t)
	g, err := f.adapter("s", nil).Refresh(context.Background(), ports.TokenRequest{Extra: map[string]string{"pack_run_id": "r1"}}, domain.NewSecret("rt"))
	// RFC 6749 §6: no refresh_token in the answer means keep the old one
	// (x/oauth2 fills it in from the request).
	if err != nil || g.Refresh.Reveal() != "rt" {
		t.Fatalf("refresh kept: %v, %v", g.Refresh.Reveal() == "rt", err)
	}
	if form := f.forms[0]; form["grant_type"] != "refresh_token" || form["refresh_token"] != "rt" || form["pack_run_id"] != "r1" {
		t.Fatalf("form %v", form)
	}
}

func TestRevokeAndUserInfo(t *testing.T) {
	f := newFake(t)
	a := f.adapter("s", nil)
	ok, err := a.Revoke(context.Background(), domain.NewSecret("rt"), "refresh_token")
	if !ok || err != nil || f.forms[0]["token"] != "rt" || f.forms[0]["token_type_hint"] != "refresh_token" {
		t.Fatalf("%v %v %v", ok, err, f.forms)
	}
	info, err := a.UserInfo(context.Background(), domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: "Bearer"}})
	if err != nil || info["sub"] != "operator" {
		t.Fatalf("%v %v", info, err)
	}
	_, err = a.UserInfo(context.Background(), domain.Credential{Access: domain.Token{Value: domain.NewSecret("other"), Type: "Bearer"}})
	if domain.ExitCodeFor(err) != 10 {
		t.Fatalf("%v", err)
	}

	g := newFake(t)
	g.noRevoke = true
	if ok, err := g.adapter("s", nil).Revoke(context.Background(), domain.NewSecret("rt"), "refresh_token"); ok || err != nil {
		t.Fatalf("no endpoint: %v %v", ok, err)
	}
}

func b64url(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out strings.Builder
	b := []byte(s)
	for i := 0; i < len(b); i += 3 {
		var n uint32
		k := min(3, len(b)-i)
		for j := range k {
			n |= uint32(b[i+j]) << (16 - 8*j)
		}
		for j := range k + 1 {
			out.WriteByte(enc[(n>>(18-6*j))&63])
		}
	}
	return out.String()
}
