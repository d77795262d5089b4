package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// answerBox is what a fuzzed server says next.
type answerBox struct {
	mu     sync.Mutex
	status int
	ctype  string
	body   []byte
}

func (a *answerBox) set(status int, ctype string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := status % 400
	if st < 0 {
		st = -st
	}
	a.status, a.ctype, a.body = 200+st, ctype, body
}

func (a *answerBox) write(w http.ResponseWriter) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", a.ctype)
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// checkKind fails on an error stella cannot classify: every failure must
// map to a documented exit code, never "unexpected" (a bug) or a panic.
func checkKind(t *testing.T, err error) {
	t.Helper()
	if err != nil && domain.KindOf(err) == domain.KindUnexpected {
		t.Fatalf("unclassified error: %v", err)
	}
}

// FuzzTokenResponse feeds the token endpoint's answer (status, content
// type, body) to a client-credentials grant through the real adapter.
func FuzzTokenResponse(f *testing.F) {
	exp := time.Now().Add(time.Hour).Unix()
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600}`},
		{200, "application/json", `{"access_token":"at","token_type":"bearer","expires_in":"3600","scope":"a b"}`},
		{200, "application/json", `{"access_token":"at","token_type":"DPoP","expires_in":-5}`},
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":1e30}`},
		{200, "application/json", `{"access_token":"","token_type":"Bearer"}`},
		{200, "application/json", `{"access_token":"` + jwt(`{"exp":`+itoa(exp)+`,"cnf":{"jkt":"x"}}`) + `","token_type":"Bearer"}`},
		{200, "application/x-www-form-urlencoded", `access_token=at&token_type=bearer&expires_in=60`},
		{400, "application/json", `{"error":"invalid_client","error_description":"nope"}`},
		{401, "application/json", `{"error":"invalid_grant"}`},
		{500, "text/html", `<html><body>Internal Server Error</body></html>`},
		{503, "application/problem+json", `{"type":"about:blank","title":"Unavailable","status":503}`},
		{200, "application/json", `{"access_token":"at","token_type":"N_A"}`},
		{200, "application/json", `[1,2,3]`},
		{200, "application/json", `{"access_token":{"nested":true},"token_type":7}`},
	} {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	box := &answerBox{}
	srv := fuzzServer(func(w http.ResponseWriter, r *http.Request) { box.write(w) }, nil)
	defer srv.Close()
	s := domain.Settings{AuthorityURL: srv.URL, ClientID: "stella-ci", ClientSecret: domain.NewSecret("s"),
		RequestTimeout: 5 * time.Second, AuthMode: domain.AuthModeBearer}
	a := New(s, http.DefaultTransport, fixedClock{now}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, nil)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		box.set(status, ctype, body)
		g, err := a.ClientCredentials(context.Background(), ports.TokenRequest{Scopes: domain.Scopes{"packs.read"}})
		checkKind(t, err)
		if err != nil {
			return
		}
		if g.Access.Value.IsZero() {
			t.Fatal("a grant without an access token was accepted")
		}
		if !strings.EqualFold(g.Access.Type, domain.TokenTypeBearer) {
			t.Fatalf("bearer mode accepted token_type %q", g.Access.Type)
		}
		// A zero expiry means "lifetime unknown" (expires_in is only
		// RECOMMENDED, RFC 6749 §5.1); anything else must lie ahead.
		if !g.Access.Expiry.IsZero() && !g.Access.Expiry.After(now) {
			t.Fatalf("accepted a token that expired at %v", g.Access.Expiry)
		}
	})
}

// FuzzDiscovery feeds the discovery document to a fresh adapter.
func FuzzDiscovery(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"ISSUER","token_endpoint":"ISSUER/token"}`,
		`{"issuer":"ISSUER","token_endpoint":"ISSUER/token","jwks_uri":"ISSUER/jwks","dpop_signing_alg_values_supported":["ES256"]}`,
		`{"issuer":"ISSUER/","token_endpoint":"ISSUER/token"}`,
		`{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`,
		`{"issuer":"ISSUER","token_endpoint":"http://evil.example/token"}`,
		`{"issuer":"ISSUER","token_endpoint":"javascript:alert(1)"}`,
		`{"issuer":"ISSUER","mtls_endpoint_aliases":{"token_endpoint":"ISSUER/mtls"}}`,
		`<html>not json</html>`,
		`{"issuer":null,"token_endpoint":[]}`,
	} {
		f.Add(200, []byte(s))
	}
	box := &answerBox{}
	var issuer string
	srv := fuzzServer(nil, func(w http.ResponseWriter, r *http.Request) {
		box.mu.Lock()
		box.body = []byte(strings.ReplaceAll(string(box.body), "ISSUER", issuer))
		box.mu.Unlock()
		box.write(w)
	})
	defer srv.Close()
	issuer = srv.URL
	s := domain.Settings{AuthorityURL: issuer, ClientID: "c", RequestTimeout: 5 * time.Second, AuthMode: domain.AuthModeDPoP}
	a := New(s, http.DefaultTransport, fixedClock{now}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, nil)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		box.set(status, "application/json", body)
		a.discovered = newDiscoveries() // discover afresh, on the same connections
		d, err := a.Discover(context.Background())
		checkKind(t, err)
		if err != nil {
			return
		}
		if d.Issuer.Raw() != issuer {
			t.Fatalf("accepted issuer %q for %q", d.Issuer, issuer)
		}
		if _, err := domain.ValidateServerURL("token endpoint", d.TokenEndpoint.Raw()); err != nil {
			t.Fatalf("accepted token endpoint %q: %v", d.TokenEndpoint, err)
		}
	})
}

// fuzzServer serves discovery (or the given handler for it) and a token
// endpoint.
func fuzzServer(token, discovery http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	var srv *httptest.Server
	if discovery == nil {
		discovery = func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "token_endpoint": srv.URL + "/token"})
		}
	}
	mux.HandleFunc("/.well-known/openid-configuration", discovery)
	if token != nil {
		mux.HandleFunc("/token", token)
	}
	srv = httptest.NewServer(mux)
	return srv
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
