package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/tools/devauthority/authority"
)

// 200 goroutines of one process facing one just-expired DPoP-bound token,
// through the graph the binary builds (file store, file lock, real
// transports) against the development Authority: exactly one refresh, no
// reuse detected, every call succeeds. The cross-process case is
// testscripts/testdata/race.txtar.
func TestTwoHundredGoroutinesRefreshOnce(t *testing.T) {
	srv, err := authority.New(authority.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := domain.Settings{AuthorityURL: issuer, BackendURL: issuer, ClientID: "stella-cli",
		Scopes: domain.Scopes{"openid", "profile", "offline_access", "packs.read"}, AuthMode: domain.AuthModeDPoP,
		Username: "operator", Password: domain.NewSecret("operator"),
		TokenStorage: domain.StorageFile, TokenCacheDir: t.TempDir(), CachePassphrase: domain.NewSecret("race-test"),
		RequestTimeout: 20 * time.Second, WaitTimeout: 30 * time.Second, NonInteractive: true}
	opts, err := modules(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var login *app.Login
	var api *app.API
	fxApp := fx.New(append(opts, fx.NopLogger, fx.Supply(s, domain.BuildInfo{}, term.IO{Out: io.Discard, Err: io.Discard}),
		fx.Provide(func() *slog.Logger { return slog.New(slog.DiscardHandler) }), fx.Populate(&login, &api))...)
	if err := fxApp.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.ShortenTokens(1)
	if _, err := login.Do(ctx, app.LoginInput{Flow: app.FlowPassword}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the 2 s token expires

	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := api.Do(ctx, app.APIInput{Method: "GET", Path: "/api/v1/me", Out: io.Discard})
			if err == nil && out.Status != 200 {
				err = fmt.Errorf("status %d", out.Status)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call failed: %v", err)
		}
	}
	grants, reused := srv.Counts()
	if grants["refresh_token"] != 1 || reused != 0 {
		t.Fatalf("refresh grants = %d, reuse detected = %d; want 1 and 0", grants["refresh_token"], reused)
	}
}
