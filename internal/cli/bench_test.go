package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/clock"
	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/dpop"
	"github.com/stellaops/stella/adapters/transport"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

type fixedTokens struct{ cred domain.Credential }

func (f fixedTokens) Credential(context.Context) (domain.Credential, error) { return f.cred, nil }
func (f fixedTokens) Renew(context.Context, domain.Credential) (domain.Credential, error) {
	return f.cred, nil
}

// BenchmarkBackendCall compares one authenticated loopback GET through the
// real adapters, in bearer and in DPoP mode, with a plain http.Client GET
// of the same server, and a DPoP proof with a raw P-256 signature, all
// interleaved in one run (SPEC §3.6, issue #5's figures). The ratios are
// reported as metrics: bearer/plain, dpop/plain, proof/sign.
func BenchmarkBackendCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	s := domain.Settings{BackendURL: srv.URL, RequestTimeout: 10 * time.Second}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	prover := dpop.New(clock.System{})
	key, jkt, err := prover.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	token := domain.NewSecret("eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJvcGVyYXRvciJ9.c2lnbmF0dXJl")
	backend := func(cred domain.Credential) ports.Backend {
		nonces := dpop.NewNonces()
		base := transport.NewBase(s, domain.BuildInfo{Version: "bench", GOOS: "linux", GOARCH: "amd64"}, config.Files{}, log)
		return transport.NewBackend(s, transport.NewAuthenticated(base, fixedTokens{cred}, dpop.NewCredentials(prover, nonces), nonces, log), domain.BuildInfo{})
	}
	plain := &http.Client{}
	get := func() {
		resp, err := plain.Get(srv.URL + "/api/v1/me")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	do := func(be ports.Backend) func() {
		return func() {
			resp, err := be.Do(context.Background(), ports.BackendRequest{Method: "GET", Path: "/api/v1/me"})
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	bearer := do(backend(domain.Credential{Access: domain.Token{Value: token, Type: domain.TokenTypeBearer}}))
	dpopCall := do(backend(domain.Credential{Access: domain.Token{Value: token, Type: domain.TokenTypeDPoP},
		Constraint: domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: jkt}, DPoPKey: key}))
	raw, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("signing input"))
	sign := func() { _, _ = ecdsa.SignASN1(rand.Reader, raw, digest[:]) }
	proof := func() {
		if _, err := prover.Proof(key, "GET", srv.URL+"/api/v1/me", "", token); err != nil {
			b.Fatal(err)
		}
	}
	// Interleaved: every iteration runs each variant once, each timed on its
	// own, starting from a different one each time, so every variant follows
	// every other equally often (a call after CPU-heavy work pays for waking
	// the server) and a shared machine's drift hits all alike.
	names := []string{"plain", "bearer", "dpop", "sign", "proof"}
	variants := []func(){get, bearer, dpopCall, sign, proof}
	total := make([]time.Duration, len(variants))
	round := 0
	for b.Loop() {
		for j := range variants {
			i := (round + j) % len(variants)
			t0 := time.Now()
			variants[i]()
			total[i] += time.Since(t0)
		}
		round++
	}
	per := func(i int) float64 { return float64(total[i].Nanoseconds()) / float64(b.N) }
	for i, n := range names {
		b.ReportMetric(per(i), n+"-ns/op")
	}
	b.ReportMetric(per(1)/per(0), "bearer/plain")
	b.ReportMetric(per(2)/per(0), "dpop/plain")
	b.ReportMetric(per(4)/per(3), "proof/sign")
}
