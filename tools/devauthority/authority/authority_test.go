package authority

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type harness struct {
	t   *testing.T
	srv *Server
	url string
}

func start(t *testing.T, mutate ...func(*Config)) *harness {
	t.Helper()
	cfg := DefaultConfig()
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, srv: s, url: u}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (h *harness) do(req *http.Request) reply {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return reply{resp.StatusCode, resp.Header, m}
}

func (h *harness) form(path string, v url.Values, basic ...string) reply {
	req, _ := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return h.do(req)
}

func (h *harness) get(path, token string) reply {
	req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}

func (h *harness) password(scope string) reply {
	return h.form("/token", url.Values{"grant_type": {"password"}, "client_id": {"stella-cli"}, "username": {"operator"},
		"password": {"operator"}, "scope": {scope}})
}

func TestTokenEndpointRejects(t *testing.T) {
	h := start(t, func(c *Config) { c.ClientAuthMethods = []string{"client_secret_basic"} })
	cc := url.Values{"grant_type": {"client_credentials"}}
	cases := []struct {
		name   string
		r      func() reply
		status int
		code   string
	}{
		{"JSON body", func() reply {
			req, _ := http.NewRequest(http.MethodPost, h.url+"/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
			req.Header.Set("Content-Type", "application/json")
			return h.do(req)
		}, 400, "invalid_request"},
		{"repeated parameter", func() reply {
			return h.form("/token", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, "stella-ci", "stella-ci-secret")
		}, 400, "invalid_request"},
		{"unknown client", func() reply { return h.form("/token", cc, "nobody", "x") }, 401, "invalid_client"},
		{"wrong secret", func() reply { return h.form("/token", cc, "stella-ci", "wrong") }, 401, "invalid_client"},
		{"post not enabled", func() reply {
			return h.form("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"stella-ci"}, "client_secret": {"stella-ci-secret"}})
		}, 401, "invalid_client"},
		{"confidential client without secret", func() reply {
			return h.form("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"stella-ci"}})
		}, 401, "invalid_client"},
		{"scope not allowed", func() reply {
			return h.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"packs.approve"}}, "stella-ci", "stella-ci-secret")
		}, 400, "invalid_scope"},
		{"grant not allowed", func() reply {
			return h.form("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"stella-cli"}})
		}, 400, "unauthorized_client"},
		{"wrong password", func() reply {
			return h.form("/token", url.Values{"grant_type": {"password"}, "client_id": {"stella-cli"}, "username": {"operator"}, "password": {"x"}})
		}, 400, "invalid_grant"},
		{"unknown grant", func() reply {
			return h.form("/token", url.Values{"grant_type": {"magic"}}, "stella-ci", "stella-ci-secret")
		}, 400, "unsupported_grant_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			if r.status != tc.status || r.body["error"] != tc.code {
				t.Fatalf("%d %v", r.status, r.body)
			}
		})
	}
	if r := h.form("/token", cc, "stella-ci", "stella-ci-secret"); r.status != 200 || r.body["refresh_token"] != nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("client credentials: %d %v", r.status, r.body)
	}
}

// Rotation with reuse detection: a second use of a refresh token revokes
// the whole family, access tokens included.
func TestRefreshRotationAndReuse(t *testing.T) {
	h := start(t)
	first := h.password("openid offline_access packs.read")
	rt1 := first.body["refresh_token"].(string)
	refresh := func(rt, scope string) reply {
		v := url.Values{"grant_type": {"refresh_token"}, "client_id": {"stella-cli"}, "refresh_token": {rt}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return h.form("/token", v)
	}
	if r := refresh(rt1, "packs.run"); r.body["error"] != "invalid_scope" {
		t.Fatalf("widening: %v", r.body)
	}
	second := refresh(rt1, "")
	rt2, _ := second.body["refresh_token"].(string)
	if second.status != 200 || rt2 == "" || rt2 == rt1 {
		t.Fatalf("rotation: %v", second.body)
	}
	at2 := second.body["access_token"].(string)
	if r := h.get("/api/v1/me", at2); r.status != 200 {
		t.Fatalf("fresh token refused: %d", r.status)
	}
	if r := refresh(rt1, ""); r.body["error"] != "invalid_grant" {
		t.Fatalf("reuse accepted: %v", r.body)
	}
	if r := refresh(rt2, ""); r.body["error"] != "invalid_grant" {
		t.Fatal("the family survived reuse")
	}
	if r := h.get("/api/v1/me", at2); r.status != 401 {
		t.Fatal("an access token of the revoked family still works")
	}
	stats := h.get("/admin/stats", "")
	if stats.body["refreshReuseDetected"].(float64) != 1 {
		t.Fatalf("stats %v", stats.body)
	}
}

func TestResourceServer(t *testing.T) {
	h := start(t)
	tok := h.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"packs.read"}}, "stella-ci", "stella-ci-secret").body["access_token"].(string)
	if r := h.get("/api/v1/jobs", ""); r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="stellaops", DPoP algs="ES256"` {
		t.Fatalf("no token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r := h.get("/api/v1/jobs", tok+"x"); r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("tampered: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/api/v1/jobs", strings.NewReader(`{"pack":"p"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	r := h.do(req)
	if r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="packs.run"`) || r.body["requiredScope"] != "packs.run" ||
		r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("X-Request-Id") == "" {
		t.Fatalf("missing scope: %d %v %v", r.status, r.header, r.body)
	}
	if r := h.get("/api/v1/jobs", tok); r.status != 200 {
		t.Fatalf("valid: %d", r.status)
	}
	// Revocation (RFC 7009): unknown tokens are fine; a known one stops working.
	if r := h.form("/revoke", url.Values{"token": {"nonsense"}}, "stella-ci", "stella-ci-secret"); r.status != 200 {
		t.Fatalf("revoke unknown: %d", r.status)
	}
	if r := h.form("/revoke", url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, "stella-ci", "stella-ci-secret"); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := h.get("/api/v1/jobs", tok); r.status != 401 {
		t.Fatal("revoked token still accepted")
	}
	if r := h.form("/introspect", url.Values{"token": {tok}}, "stella-ci", "stella-ci-secret"); r.body["active"] != false {
		t.Fatalf("introspect revoked: %v", r.body)
	}
	if r := h.form("/introspect", url.Values{"token": {tok}, "client_id": {"stella-cli"}}); r.status != 401 {
		t.Fatalf("public client may not introspect: %d", r.status)
	}
}

func TestFaultsAndIssuerOverride(t *testing.T) {
	h := start(t, func(c *Config) { c.Issuer = "https://impostor.example.com" })
	if d := h.get("/.well-known/openid-configuration", ""); d.body["issuer"] != "https://impostor.example.com" {
		t.Fatalf("issuer %v", d.body["issuer"])
	}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/admin/faults", strings.NewReader(`{"tokenErrors":1,"tokenErrorStatus":503}`))
	h.do(req)
	cc := url.Values{"grant_type": {"client_credentials"}}
	if r := h.form("/token", cc, "stella-ci", "stella-ci-secret"); r.status != 503 {
		t.Fatalf("fault: %d", r.status)
	}
	if r := h.form("/token", cc, "stella-ci", "stella-ci-secret"); r.status != 200 {
		t.Fatalf("after fault: %d", r.status)
	}
	req, _ = http.NewRequest(http.MethodPost, h.url+"/admin/faults", strings.NewReader(`{"nonsense":1}`))
	if r := h.do(req); r.status != 400 {
		t.Fatal("unknown fault accepted")
	}
	if _, err := New(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	s, _ := New(DefaultConfig())
	if _, err := s.Start("0.0.0.0:0"); err == nil {
		t.Fatal("listened beyond loopback")
	}
}

// no-identity withholds every verified statement of who signed in: no ID
// token although openid was granted, and userinfo failing. The other
// faults that withhold the ID token leave userinfo answering.
func TestNoIdentityFault(t *testing.T) {
	for _, tc := range []struct {
		fault    string
		idToken  bool
		userinfo int
	}{{"no-identity", false, http.StatusServiceUnavailable}, {"no-id-token", false, http.StatusOK}, {"", true, http.StatusOK}} {
		fault, userinfo := tc.fault, tc.userinfo
		h := start(t, func(c *Config) { c.IDTokenFault = fault })
		r := h.password("openid profile")
		at, _ := r.body["access_token"].(string)
		if r.status != 200 || at == "" || (r.body["id_token"] != nil) != tc.idToken {
			t.Fatalf("%s: token response %d %v", fault, r.status, r.body)
		}
		if u := h.get("/userinfo", at); u.status != userinfo {
			t.Fatalf("%s: userinfo %d, want %d", fault, u.status, userinfo)
		}
	}
}

// TestConfigNow: expiry follows Config.Now, not the wall clock, so the
// scenarios cross a lifetime by moving the clock instead of sleeping.
func TestConfigNow(t *testing.T) {
	var offset atomic.Int64
	h := start(t, func(c *Config) {
		c.TokenTTL = time.Minute
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	tok := h.form("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"packs.read"}}, "stella-ci", "stella-ci-secret").body["access_token"].(string)
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{0, 200}, {50 * time.Second, 200}, {70 * time.Second, 401}} {
		offset.Store(int64(tc.after))
		if r := h.get("/api/v1/jobs", tok); r.status != tc.want {
			t.Errorf("a 1-minute token %s on: %d, want %d", tc.after, r.status, tc.want)
		}
	}
}
