package cli

import (
	"github.com/stellaops/stella/adapters/auth"
	"github.com/stellaops/stella/adapters/dpop"
	"github.com/stellaops/stella/adapters/lock"
	"github.com/stellaops/stella/adapters/transport"
	"github.com/stellaops/stella/app"
)

// tokenManager is the TokenManager `auth token` and `auth header` use.
// When the session store is known up front (earlyStore), it is put
// together by hand, from the same constructors the fx graph uses: with the
// key in the kernel key cache, a cached token is printed in a few
// milliseconds, and building the fx graph (its reflection, and the code
// it touches) was a third of that and a fifth of the memory (make bench).
// Otherwise — auto still to decide, a passphrase to prompt for, test
// options — it comes from the fx graph like every other use case.
func (rt *Runtime) tokenManager() (*app.TokenManager, error) {
	s, err := rt.Settings()
	if err != nil {
		return nil, err
	}
	early := earlyStore(rt.ctx, s, rt.now(), rt.Logger())
	if early == nil || len(rt.extra) > 0 {
		var tm *app.TokenManager
		if err := rt.populate(s, early, &tm); err != nil {
			return nil, err
		}
		return tm, nil
	}
	log := rt.Logger()
	clk := rt.systemClock()
	base := transport.NewBase(s, rt.build, log)
	prover := dpop.New(clk)
	nonces := dpop.NewClockedNonces(clk) // one memory: kept with the session by the TokenManager
	authority := auth.New(s, base, clk, log, prover, nonces, base)
	return app.NewTokenManager(s, early, lock.New(s.TokenCacheDir), authority, prover, nonces, base, clk, log), nil
}
