package cli

import (
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// DoctorCmd is `stella auth doctor`.
type DoctorCmd struct {
	ForgetKeys bool `name:"forget-keys" help:"Drop every key stella keeps in the kernel key cache (KeyCacheTTL) for you in this session; the next command asks for the passphrase or reads the keychain again."`
}

// Help is shown by `stella auth doctor --help`.
func (DoctorCmd) Help() string {
	return `Checks, in order, and reports each with pass/fail and a fix: the
configuration resolves (with where each value came from), the Authority
answers, its discovery document is valid (issuer, endpoints, DPoP
algorithms), this machine's clock agrees with the Authority's, the OS
keychain answers (probed afresh, bounded), the token cache directory is
private, and every stored session opens. A session file that cannot be
opened is moved aside to *.corrupt-<time> (never deleted) and named.
--forget-keys then drops every key stella keeps in the kernel key cache
(KeyCacheTTL) for you in this session, and reports it as one more check.
Exits 0 only when every check passes; otherwise with the code of the first
failure (13 unreachable, 15 discovery or clock, 18 storage, ...).

Examples:
  stella auth doctor
  stella auth doctor --forget-keys      # after typing the passphrase on a shared machine
  stella --profile ci auth doctor --json | jq '.checks[] | select(.status=="fail")'`
}

// Run checks.
func (c *DoctorCmd) Run(rt *Runtime) error {
	// A configuration that does not resolve is the first failed check, not
	// the end: the checks that do not depend on it still run (SPEC §3.12).
	_, cfgErr := rt.Settings()
	if cfgErr != nil {
		if domain.KindOf(cfgErr) != domain.KindUsage {
			return cfgErr
		}
		fb := rt.fallbackSettings()
		rt.settings = &fb
	}
	var uc *app.Doctor
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	if cfgErr != nil {
		uc.ConfigurationFailed(cfgErr)
	}
	res, err := uc.Do(rt.ctx, app.DoctorInput{ForgetKeys: c.ForgetKeys})
	if perr := printDoctor(rt, res, err); perr != nil {
		return perr
	}
	return err
}
