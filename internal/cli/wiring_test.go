package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/keychain"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Every command's graph must be complete for every store the composition
// root can choose: fx.ValidateApp checks it without running constructors.
func TestEveryCommandGraphValidates(t *testing.T) {
	targets := map[string]func() any{
		"auth login":   func() any { return new(*app.Login) },
		"auth logout":  func() any { return new(*app.Logout) },
		"auth status":  func() any { return new(*app.Status) },
		"auth whoami":  func() any { return new(*app.Whoami) },
		"auth token":   func() any { return new(*app.TokenManager) },
		"auth header":  func() any { return new(*app.Header) },
		"api":          func() any { return new(*app.API) },
		"pack approve": func() any { return new(*app.PackApprove) },
	}
	for _, storage := range []domain.StorageKind{domain.StorageMemory, domain.StorageFile, domain.StorageKeychain, domain.StorageAuto, domain.StorageRedis} {
		s := domain.Settings{AuthorityURL: "https://authority.example.com", ClientID: "c", AuthMode: domain.AuthModeBearer,
			TokenStorage: storage, TokenCacheDir: t.TempDir(), RequestTimeout: time.Second}
		for name, target := range targets {
			t.Run(string(storage)+"/"+name, func(t *testing.T) {
				opts, err := modules(s, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = fx.ValidateApp(append(opts, fx.NopLogger, fx.Supply(s, domain.BuildInfo{}, term.IO{}),
					fx.Provide(slog.Default, func() ports.ProfileAuthorities { return profileAuthorities{} }), // as Populate provides them
					fx.Populate(target()))...)
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// spyTokens stands in for the TokenManager behind the transport and counts
// the calls, so the test can prove a command took the one token path.
type spyTokens struct{ calls atomic.Int32 }

func (s *spyTokens) Credential(context.Context) (domain.Credential, error) {
	s.calls.Add(1)
	return domain.Credential{Access: domain.Token{Value: domain.NewSecret("spy-token"), Type: domain.TokenTypeBearer}}, nil
}

func (s *spyTokens) Renew(ctx context.Context, _ domain.Credential) (domain.Credential, error) {
	return s.Credential(ctx)
}

// Every command that talks to a backend gets its token through the
// TokenSource the app's TokenManager provides — never its own path. The
// spy replaces that TokenSource; a command that built its own token path
// would reach the backend without the spy's token.
func TestBackendCommandsUseTheTokenManager(t *testing.T) {
	var sawToken atomic.Bool
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken.Store(r.Header.Get("Authorization") == "Bearer spy-token")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer backend.Close()

	commands := [][]string{
		{"api", "GET", "/api/v1/me"},
		{"api", "-X", "POST", "/api/v1/jobs", "--data", `{"pack":"p"}`},
	}
	for _, args := range commands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Setenv("STELLA_CONFIG_DIR", t.TempDir())
			t.Setenv("STELLA_AUTHORITY_URL", "http://127.0.0.1:1")
			t.Setenv("STELLA_CLIENT_ID", "c")
			t.Setenv("STELLA_BACKEND_URL", backend.URL)
			t.Setenv("STELLA_TOKEN_STORAGE", "memory")
			sawToken.Store(false)
			spy := &spyTokens{}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, term.IO{In: strings.NewReader(""), Out: &out, Err: &errb},
				fx.Decorate(func(ports.TokenSource) ports.TokenSource { return spy }))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if spy.calls.Load() == 0 || !sawToken.Load() {
				t.Fatalf("token source calls %d, backend saw the token: %v", spy.calls.Load(), sawToken.Load())
			}
		})
	}
}

// The store is opened ahead only where it is known without a probe or a
// prompt; and the store opened ahead is the one
// the command then uses, so its read-ahead is not wasted.
func TestEarlyStore(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	remember := func(dir string, ok bool) {
		b, err := json.Marshal(keychain.Verdict{OK: ok, Bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), At: now.Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "keychain-probe.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name       string
		storage    domain.StorageKind
		verdict    *bool // a probe's verdict kept in the cache directory
		passphrase bool  // STELLA_CACHE_PASSPHRASE is set
		early      bool
		kind       domain.StorageKind
	}{
		{name: "keychain chosen", storage: domain.StorageKeychain, early: true, kind: domain.StorageKeychain},
		{name: "auto, keychain answered earlier", storage: domain.StorageAuto, verdict: ptr(true), early: true, kind: domain.StorageKeychain},
		{name: "auto, keychain failed earlier", storage: domain.StorageAuto, verdict: ptr(false)},
		{name: "auto, keychain failed earlier, passphrase configured", storage: domain.StorageAuto, verdict: ptr(false), passphrase: true, early: true, kind: domain.StorageFile},
		{name: "auto, nothing known: no probe here", storage: domain.StorageAuto},
		{name: "file, passphrase configured", storage: domain.StorageFile, passphrase: true, early: true, kind: domain.StorageFile},
		{name: "file, passphrase to be asked", storage: domain.StorageFile},
		{name: "memory", storage: domain.StorageMemory},
		{name: "redis: nothing opened ahead (no connection before first use)", storage: domain.StorageRedis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.verdict != nil {
				remember(dir, *tc.verdict)
			}
			s := domain.Settings{AuthorityURL: "https://authority.example.com", ClientID: "c", TokenStorage: tc.storage, TokenCacheDir: dir}
			if tc.passphrase {
				s.CachePassphrase = domain.NewSecret("pass")
			}
			early := earlyStore(context.Background(), s, now, slog.Default())
			if (early != nil) != tc.early {
				t.Fatalf("opened ahead: %v, want %v", early != nil, tc.early)
			}
			if early == nil {
				if _, err := os.Stat(filepath.Join(dir, "keychain-probe.json")); tc.verdict == nil && err == nil {
					t.Fatal("a probe ran to decide")
				}
				return
			}
			opts, err := modules(s, early)
			if err != nil {
				t.Fatal(err)
			}
			var store ports.SessionStore
			app := fx.New(append(opts, fx.NopLogger, fx.Supply(s, domain.BuildInfo{}, term.IO{}),
				fx.Provide(slog.Default), fx.Populate(&store))...)
			if err := app.Err(); err != nil {
				t.Fatal(err)
			}
			if store != ports.SessionStore(early) {
				t.Fatalf("the command uses %T, not the store opened ahead", store)
			}
			if info := early.Info(); info.Kind != tc.kind || info.Reason == "" {
				t.Errorf("Info = %+v", info)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
