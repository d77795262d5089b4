package cli

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/clock"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

type fixedClock struct{ clock.System }

func (fixedClock) Now() time.Time { return time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC) }

// Options.Clock reaches every place that reads the time: the runtime, the
// hand-built token path, and constructors in the graph's modules (a
// decoration at the root must reach into fx.Module scopes).
func TestOptionsClock(t *testing.T) {
	s := domain.Settings{AuthorityURL: "https://authority.example.com", ClientID: "c", AuthMode: domain.AuthModeBearer,
		TokenStorage: domain.StorageMemory, TokenCacheDir: t.TempDir(), RequestTimeout: time.Second}
	for _, tc := range []struct {
		name string
		opts Options
		want func(time.Time) bool
	}{
		{"system", Options{}, func(now time.Time) bool { return time.Since(now).Abs() < time.Minute }},
		{"replaced", Options{Clock: fixedClock{}}, func(now time.Time) bool { return now.Equal(fixedClock{}.Now()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inModule ports.Clock
			rt := &Runtime{ctx: context.Background(), io: term.IO{}, opts: tc.opts,
				extra: []fx.Option{fx.Module("probe", fx.Invoke(func(c ports.Clock) { inModule = c }))}}
			var root ports.Clock
			if err := rt.populate(s, nil, &root); err != nil {
				t.Fatal(err)
			}
			for what, now := range map[string]time.Time{"rt.now": rt.now(), "systemClock": rt.systemClock().Now(),
				"graph": root.Now(), "module": inModule.Now()} {
				if !tc.want(now) {
					t.Errorf("%s reads %s", what, now)
				}
			}
		})
	}
}
