package cli

import (
	"github.com/stellaops/stella/adapters/auth"
	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/dpop"
	"github.com/stellaops/stella/adapters/lock"
	"github.com/stellaops/stella/adapters/transport"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/ports"
)

// tokenTools are the TokenManager and credential-header builder `auth
// token` and `auth header` use: one lean path for both. When the session store is known up front (earlyStore), it is put
// together by hand, from the same constructors the fx graph uses: with the
// key in the kernel key cache, a cached token is printed in a few
// milliseconds, and building the fx graph (its reflection, and the code
// it touches) was a third of that and a fifth of the memory (make bench).
// Otherwise — auto still to decide, a passphrase to prompt for, test
// options — it comes from the fx graph like every other use case.
func (rt *Runtime) tokenTools() (*app.TokenManager, ports.CredentialHeaders, error) {
	s, err := rt.Settings()
	if err != nil {
		return nil, nil, err
	}
	early := earlyStore(rt.ctx, s, rt.now(), rt.Logger())
	if early == nil || len(rt.extra) > 0 {
		var tm *app.TokenManager
		var creds ports.CredentialHeaders
		if err := rt.populate(s, early, &tm, &creds); err != nil {
			return nil, nil, err
		}
		return tm, creds, nil
	}
	log := rt.Logger()
	clk := rt.systemClock()
	base := transport.NewBase(s, rt.build, config.Files{}, log)
	prover := dpop.New(clk)
	nonces := dpop.NewClockedNonces(clk) // one memory: kept with the session by the TokenManager
	creds := dpop.NewCredentials(prover, nonces)
	authority := auth.New(s, base, clk, log, prover, creds, base)
	return app.NewTokenManager(s, early, lock.New(s.TokenCacheDir), authority, prover, nonces, base, clk, log), creds, nil
}
