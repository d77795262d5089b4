package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/clock"
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
// of the same server, in one run (SPEC §3.6, issue #5's figures).
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
		base := transport.NewBase(s, domain.BuildInfo{Version: "bench", GOOS: "linux", GOARCH: "amd64"}, log)
		return transport.NewBackend(s, transport.NewAuthenticated(base, fixedTokens{cred}, prover, dpop.NewNonces(), log), domain.BuildInfo{})
	}
	call := func(b *testing.B, be ports.Backend) {
		for b.Loop() {
			resp, err := be.Do(context.Background(), ports.BackendRequest{Method: "GET", Path: "/api/v1/me"})
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	b.Run("plain-http-client", func(b *testing.B) {
		c := &http.Client{}
		for b.Loop() {
			resp, err := c.Get(srv.URL + "/api/v1/me")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	})
	b.Run("stella-bearer", func(b *testing.B) {
		call(b, backend(domain.Credential{Access: domain.Token{Value: token, Type: domain.TokenTypeBearer}}))
	})
	b.Run("stella-dpop", func(b *testing.B) {
		call(b, backend(domain.Credential{Access: domain.Token{Value: token, Type: domain.TokenTypeDPoP},
			Constraint: domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: jkt}, DPoPKey: key}))
	})
}
