package dpop

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/stellaops/stella/domain"
)

type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestHTU(t *testing.T) {
	cases := map[string]string{
		"https://Auth.Example.COM/token":           "https://auth.example.com/token",
		"https://auth.example.com:443/token?x=1#f": "https://auth.example.com/token",
		"http://127.0.0.1:80/a/b":                  "http://127.0.0.1/a/b",
		"http://127.0.0.1:8080/api/v1/jobs?page=2": "http://127.0.0.1:8080/api/v1/jobs",
		"https://h.example.com":                    "https://h.example.com/",
		"https://h.example.com/a%2Fb":              "https://h.example.com/a%2Fb",
		"HTTPS://[::1]:8443/x":                     "https://[::1]:8443/x",
	}
	for in, want := range cases {
		if got, err := HTU(in); err != nil || got != want {
			t.Errorf("%s → %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := HTU("/relative"); domain.KindOf(err) != domain.KindUsage {
		t.Error("relative URL accepted")
	}
}

// The thumbprint is RFC 7638's: SHA-256 over the required members in
// lexicographic order, computed here by hand rather than by go-jose.
func TestThumbprintIsRFC7638(t *testing.T) {
	p := New(clock{now})
	key, jkt, err := p.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(key.Reveal())); err != nil {
		t.Fatal(err)
	}
	pub := jwk.Key.(*ecdsa.PrivateKey).PublicKey
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	x, y := raw[1:33], raw[33:65]
	sum := sha256.Sum256([]byte(fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(x), b64(y))))
	if jkt != b64(sum[:]) {
		t.Fatalf("jkt %s, RFC 7638 gives %s", jkt, b64(sum[:]))
	}
	if again, _ := p.Thumbprint(key); again != jkt {
		t.Fatal("Thumbprint disagrees with NewKey")
	}
	if strings.Contains(fmt.Sprint(key), "\"d\"") {
		t.Fatal("the key printed itself")
	}
}

func TestProofClaims(t *testing.T) {
	p := New(clock{now})
	key, jkt, _ := p.NewKey()
	proof, err := p.Proof(key, "post", "https://Auth.example.com:443/token?x=1", "n-1", domain.NewSecret("the-access-token"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(proof.Reveal(), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "dpop+jwt" || h.Algorithm != "ES256" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header %+v", h)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	ath := sha256.Sum256([]byte("the-access-token"))
	if c["htm"] != "POST" || c["htu"] != "https://auth.example.com/token" || c["nonce"] != "n-1" || c["iat"] != float64(now.Unix()) ||
		c["ath"] != base64.RawURLEncoding.EncodeToString(ath[:]) || len(c["jti"].(string)) < 16 {
		t.Fatalf("claims %v", c)
	}
	if got, _ := p.Thumbprint(key); got != jkt {
		t.Fatal("key changed")
	}
	other, _ := p.Proof(key, "GET", "https://a/x", "", domain.Secret{})
	var c2 map[string]any
	j2, _ := jose.ParseSignedCompact(other.Reveal(), []jose.SignatureAlgorithm{jose.ES256})
	pl2, _ := j2.Verify(h.JSONWebKey)
	_ = json.Unmarshal(pl2, &c2)
	if c2["jti"] == c["jti"] || c2["ath"] != nil || c2["nonce"] != nil {
		t.Fatalf("second proof %v", c2)
	}
}

// One challenge, one retry; a server that keeps demanding nonces gets
// exactly two requests, never a loop; a learnt nonce is sent proactively.
func TestNonceChallenges(t *testing.T) {
	for _, tc := range []struct {
		name      string
		demand    int32 // how many requests are refused for their nonce
		status    int
		wantCalls int32
		wantCode  int
	}{
		{"authority 400 once", 1, 400, 2, 200},
		{"backend 401 once", 1, 401, 2, 200},
		{"server that always demands", 1000, 400, 2, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var lastNonce atomic.Value
			sent := make(chan string, 10)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				if string(body) != "grant_type=x" {
					t.Errorf("body %q on call %d", body, n)
				}
				j, _ := jose.ParseSignedCompact(r.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
				pl, _ := j.Verify(j.Signatures[0].Protected.JSONWebKey)
				var c map[string]any
				_ = json.Unmarshal(pl, &c)
				lastNonce.Store(fmt.Sprint(c["nonce"]))
				sent <- fmt.Sprint(c["nonce"])
				w.Header().Set("DPoP-Nonce", fmt.Sprintf("nonce-%d", n))
				if n <= tc.demand {
					if tc.status == 401 {
						w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
						w.WriteHeader(401)
						return
					}
					w.WriteHeader(400)
					_, _ = w.Write([]byte(`{"error":"use_dpop_nonce"}`))
				}
			}))
			defer srv.Close()
			p := New(clock{now})
			key, _, _ := p.NewKey()
			nonces := NewNonces()
			rt := NewCredentials(p, nonces).Transport(http.DefaultTransport, domain.Credential{DPoPKey: key})
			req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader("grant_type=x"))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if calls.Load() != tc.wantCalls || resp.StatusCode != tc.wantCode {
				t.Fatalf("calls %d status %d", calls.Load(), resp.StatusCode)
			}
			if tc.wantCode == 400 && !strings.Contains(string(b), "use_dpop_nonce") {
				t.Fatalf("the error body was lost: %q", b)
			}
			if lastNonce.Load() != "nonce-1" {
				t.Fatalf("retry sent nonce %v", lastNonce.Load())
			}
			// The next request sends the latest nonce without being asked.
			for range tc.wantCalls {
				<-sent
			}
			req, _ = http.NewRequest("POST", srv.URL+"/token", strings.NewReader("grant_type=x"))
			resp, _ = rt.RoundTrip(req)
			resp.Body.Close()
			if first := <-sent; first != fmt.Sprintf("nonce-%d", tc.wantCalls) {
				t.Fatalf("proactive nonce %v", first)
			}
		})
	}
}

// claimsOf verifies a proof with its own embedded key and returns its claims.
func claimsOf(t *testing.T, proof string) map[string]any {
	t.Helper()
	j, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := j.Verify(j.Signatures[0].Protected.JSONWebKey)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(pl, &c)
	return c
}

// The headers of each kind of credential: Bearer alone; DPoP with a proof
// for exactly that method and URL, its token's hash and the nonce known for
// the server; a token request's proof alone; an unknown type refused.
func TestHeaders(t *testing.T) {
	p := New(clock{now})
	key, _, _ := p.NewKey()
	nonces := NewNonces()
	nonces.Put("https://backend.example.com/other", "n-backend")
	c := NewCredentials(p, nonces)
	ath := sha256.Sum256([]byte("at-1"))
	for _, tc := range []struct {
		name      string
		cred      domain.Credential
		wantNames []string
		wantAuth  string
		wantATH   any
		refused   bool // with KindProtocol
	}{
		{"bearer", domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: domain.TokenTypeBearer}},
			[]string{"Authorization"}, "Bearer at-1", nil, false},
		{"dpop", domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: domain.TokenTypeDPoP}, DPoPKey: key},
			[]string{"Authorization", "DPoP"}, "DPoP at-1", base64.RawURLEncoding.EncodeToString(ath[:]), false},
		{"token request", domain.Credential{DPoPKey: key}, []string{"DPoP"}, "", nil, false},
		{"bearer-mode token request", domain.Credential{}, nil, "", nil, false},
		{"unknown type", domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: "MAC"}}, nil, "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := c.Headers(tc.cred, "post", "https://Backend.example.com/api/v1/jobs?page=2")
			if tc.refused {
				if domain.KindOf(err) != domain.KindProtocol || !strings.Contains(fmt.Sprint(err), `"MAC" is not supported`) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			values := map[string]string{}
			for _, h := range hs {
				names = append(names, h.Name)
				values[h.Name] = h.Value.Reveal()
				if fmt.Sprint(h.Value) != "[redacted]" {
					t.Fatal("a header value printed itself")
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tc.wantNames) || values["Authorization"] != tc.wantAuth {
				t.Fatalf("headers %v, Authorization %q", names, values["Authorization"])
			}
			if proof, ok := values["DPoP"]; ok {
				cl := claimsOf(t, proof)
				if cl["htm"] != "POST" || cl["htu"] != "https://backend.example.com/api/v1/jobs" || cl["nonce"] != "n-backend" || cl["ath"] != tc.wantATH {
					t.Fatalf("claims %v", cl)
				}
			}
		})
	}
}

// A resource request through the transport carries the DPoP scheme and a
// proof with ath on the first try and on the retry a backend's nonce
// challenge earns; the caller's request is left as it was.
func TestTransportResourceRetry(t *testing.T) {
	var calls atomic.Int32
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		seen = append(seen, r.Header.Get("Authorization")+"|"+fmt.Sprint(claimsOf(t, r.Header.Get("DPoP"))["nonce"]))
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("rs-%d", n))
		if n == 1 {
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	p := New(clock{now})
	key, _, _ := p.NewKey()
	nonces := NewNonces()
	cred := domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: domain.TokenTypeDPoP}, DPoPKey: key}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/me", nil)
	resp, err := NewCredentials(p, nonces).Transport(http.DefaultTransport, cred).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || fmt.Sprint(seen) != "[DPoP at-1|<nil> DPoP at-1|rs-1]" || len(req.Header) != 0 {
		t.Fatalf("status %d, sent %v, caller's headers %v", resp.StatusCode, seen, req.Header)
	}
	if nonces.Get(srv.URL+"/api/v1/me") != "rs-2" {
		t.Fatalf("kept nonce %q", nonces.Get(srv.URL+"/api/v1/me"))
	}
}

// BenchmarkProof compares a go-jose proof with the raw P-256 signature of
// the same kind of digest it contains.
func BenchmarkProof(b *testing.B) {
	p := New(clock{now})
	key, _, _ := p.NewKey()
	access := domain.NewSecret(strings.Repeat("t", 800))
	b.Run("raw-ecdsa-SignASN1", func(b *testing.B) {
		var jwk jose.JSONWebKey
		_ = jwk.UnmarshalJSON([]byte(key.Reveal()))
		priv := jwk.Key.(*ecdsa.PrivateKey)
		digest := sha256.Sum256([]byte("header.payload"))
		for b.Loop() {
			if _, err := ecdsa.SignASN1(rand.Reader, priv, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stella-proof", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.Proof(key, "GET", "https://backend.example.com/api/v1/jobs", "n", access); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Nonces kept with a session seed a new process's memory, never over what
// the process heard itself, and come back out with when each was first seen.
func TestNoncesSeedSnapshot(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	n := NewClockedNonces(clock{now})
	n.Put("https://Auth.example/token", "live")
	n.Seed([]domain.DPoPNonce{
		{Origin: "https://auth.example", Value: "stored", Seen: now.Add(-time.Minute)},
		{Origin: "https://backend.example", Value: "b1", Seen: now.Add(-time.Minute)},
		{Origin: "https://gone.example", Value: "ancient", Seen: now.Add(-2 * time.Hour)},
	})
	if n.Get("https://auth.example/token") != "live" || n.Get("https://backend.example/api/v1/me") != "b1" || n.Get("https://gone.example/x") != "" {
		t.Fatalf("after seeding: %q %q %q", n.Get("https://auth.example/token"), n.Get("https://backend.example/api/v1/me"), n.Get("https://gone.example/x"))
	}
	n.Put("https://backend.example/api/v1/jobs", "b1") // the same value keeps its age at the origin
	snap := n.Snapshot()
	if len(snap) != 4 || snap[2].Origin != "https://backend.example" || !snap[2].Seen.Equal(now.Add(-time.Minute)) || !snap[0].Seen.Equal(now) {
		t.Fatalf("%+v", snap)
	}
	// An Authority and a resource server on one origin keep their own
	// nonces; another endpoint of the origin gets the latest of either.
	n.Put("https://one.example/token", "as")
	n.Put("https://one.example/api/v1/me", "rs")
	if n.Get("https://one.example/token") != "as" || n.Get("https://one.example/api/v1/me?x=1") != "rs" || n.Get("https://one.example/api/v1/jobs") != "rs" {
		t.Fatal("per-endpoint nonces")
	}
}
