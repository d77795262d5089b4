package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// CheckStatus is the outcome of one doctor check.
type CheckStatus string

const (
	CheckPass CheckStatus = "pass"
	CheckFail CheckStatus = "fail"
	CheckSkip CheckStatus = "skip" // not applicable, or blocked by an earlier failure
)

// Check is one line of `stella auth doctor`.
type Check struct {
	Name   string
	Status CheckStatus
	Detail string
	Fix    string
	Moved  []string // files moved aside
	err    error
}

// DoctorOutput is every check, in order.
type DoctorOutput struct {
	Checks []Check
}

// maxSkew is the clock difference beyond which tokens start to look
// not-yet-valid or expired to one side (validators allow a minute or so).
const maxSkew = 60 * time.Second

// Doctor runs the checks of SPEC §3.12, in order, each with a fix.
type Doctor struct {
	configErr error // the configuration did not resolve; settings are the fallback
	settings  domain.Settings
	authority ports.Authority
	storage   ports.StorageInspector
	clock     ports.Clock
}

// NewDoctor builds the use case; it does no I/O.
func NewDoctor(s domain.Settings, a ports.Authority, st ports.StorageInspector, c ports.Clock) *Doctor {
	return &Doctor{settings: s, authority: a, storage: st, clock: c}
}

// ConfigurationFailed records that the configuration did not resolve: the
// configuration check fails with err (its file:line and fix), the checks
// that need an Authority are skipped, and the others run on the fallback
// settings the Doctor was built with.
func (u *Doctor) ConfigurationFailed(err error) { u.configErr = err }

// DoctorInput are the doctor's options.
type DoctorInput struct {
	// ForgetKeys drops every key stella keeps in the kernel key cache
	// (`auth doctor --forget-keys`), after the checks that open sessions.
	ForgetKeys bool
}

// Do runs every check. The error is the first failure's (its kind gives
// the exit code), nil only when every check passed. At most one input is
// taken; none means the defaults.
func (u *Doctor) Do(ctx context.Context, inputs ...DoctorInput) (DoctorOutput, error) {
	var in DoctorInput
	if len(inputs) > 0 {
		in = inputs[0]
	}
	var out DoctorOutput
	add := func(c Check) { out.Checks = append(out.Checks, c) }

	cfg := u.configuration()
	add(cfg)
	if cfg.Status == CheckPass {
		for _, c := range u.authorityChecks(ctx) {
			add(c)
		}
	} else {
		why := "needs an Authority URL and client id"
		if u.configErr != nil {
			why = "needs a configuration that resolves"
		}
		for _, n := range []string{"authority", "discovery", "clock"} {
			add(Check{Name: n, Status: CheckSkip, Detail: why})
		}
	}
	add(u.keychain(ctx))
	add(u.cacheDir())
	add(u.sessions(ctx))
	if c, ok := u.sharedCache(ctx); ok {
		add(c)
	}
	if kc, ok := u.storage.(ports.KeyCacheInspector); ok && in.ForgetKeys {
		// Last: opening the sessions above may put keys in the cache, and
		// --forget-keys must leave none behind. Only when asked: the
		// checks of SPEC §3.12 stay what scripts count on, and a kernel
		// that refuses keyrings is said at -v only.
		add(u.keyCache(ctx, kc))
	}

	for _, c := range out.Checks {
		if c.Status == CheckFail {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			n := 0
			for _, c := range out.Checks {
				if c.Status == CheckFail {
					n++
				}
			}
			return out, domain.E(domain.KindOf(c.err), fmt.Sprintf("%d of %d checks failed (first: %s)", n, len(out.Checks), c.Name), c.Fix)
		}
	}
	return out, nil
}

func (u *Doctor) fail(name string, err error) Check {
	return Check{Name: name, Status: CheckFail, Detail: errorMessage(err), Fix: u.settings.HintFor(err), err: err}
}

// errorMessage is an error's own message, without its hint.
func errorMessage(err error) string {
	var de *domain.Error
	if errors.As(err, &de) && de.Message != "" {
		return de.Message
	}
	return err.Error()
}

func (u *Doctor) configuration() Check {
	s := u.settings
	if u.configErr != nil {
		return u.fail("configuration", u.configErr)
	}
	if err := s.RequireAuthority(); err != nil {
		return u.fail("configuration", err)
	}
	src := func(key string) string {
		for _, e := range s.Effective {
			if e.Key == key {
				return e.Source.String()
			}
		}
		return string(domain.SourceDefault)
	}
	parts := []string{
		fmt.Sprintf("profile %s (%s)", s.ProfileName(), src("Profile")),
		fmt.Sprintf("Authority %s (%s)", s.AuthorityURL, src("Authority.Url")),
		fmt.Sprintf("client %s (%s)", s.ClientID, src("Authority.ClientId")),
		fmt.Sprintf("auth mode %s (%s)", s.AuthMode, src("Authority.AuthMode")),
		fmt.Sprintf("storage %s (%s)", s.TokenStorage, src("Authority.TokenStorage")),
	}
	return Check{Name: "configuration", Status: CheckPass, Detail: strings.Join(parts, ", ")}
}

func (u *Doctor) authorityChecks(ctx context.Context) []Check {
	start := u.clock.Now()
	d, err := u.authority.Discover(ctx)
	if err != nil {
		if k := domain.KindOf(err); k == domain.KindUnreachable || k == domain.KindInterrupted {
			return []Check{u.fail("authority", err),
				{Name: "discovery", Status: CheckSkip, Detail: "the Authority did not answer"},
				{Name: "clock", Status: CheckSkip, Detail: "the Authority did not answer"}}
		}
		return []Check{{Name: "authority", Status: CheckPass, Detail: u.settings.AuthorityURL + " answered"},
			u.fail("discovery", err), {Name: "clock", Status: CheckSkip, Detail: "no valid discovery response"}}
	}
	reach := Check{Name: "authority", Status: CheckPass,
		Detail: fmt.Sprintf("%s answered in %s", u.settings.AuthorityURL, d.FetchedAt.Sub(start).Round(time.Millisecond))}

	disc := Check{Name: "discovery", Status: CheckPass,
		Detail: "issuer matches; endpoints: " + strings.Join(d.Endpoints, ", ")}
	if u.settings.AuthMode == domain.AuthModeDPoP {
		switch {
		case len(d.DPoPAlgs) == 0:
			disc.Detail += "; no dpop_signing_alg_values_supported advertised (stella will use ES256)"
		case !slices.Contains(d.DPoPAlgs, "ES256"):
			err := domain.E(domain.KindProtocol, "the Authority's DPoP algorithms ("+domain.JoinUntrusted(d.DPoPAlgs, ", ")+") do not include ES256",
				"Ask the Authority's operators to accept ES256 proofs, or use AuthMode: bearer.")
			disc = u.fail("discovery", err)
		default:
			disc.Detail += "; DPoP " + domain.JoinUntrusted(d.DPoPAlgs, ", ")
		}
	}

	clock := Check{Name: "clock", Status: CheckSkip, Detail: "the Authority sent no Date header"}
	if !d.ServerDate.IsZero() {
		skew := d.FetchedAt.Sub(d.ServerDate)
		abs := skew
		if abs < 0 {
			abs = -abs
		}
		// Date has a resolution of one second.
		clock = Check{Name: "clock", Status: CheckPass, Detail: fmt.Sprintf("within %s of the Authority's clock", max(abs.Round(time.Second), time.Second))}
		if abs > maxSkew {
			dir := "ahead of"
			if skew < 0 {
				dir = "behind"
			}
			clock = u.fail("clock", domain.E(domain.KindProtocol,
				fmt.Sprintf("this machine's clock is %s %s the Authority's", abs.Round(time.Second), dir),
				"Synchronise the clock (NTP: timedatectl set-ntp true); tokens will otherwise look expired or not yet valid."))
		}
	}
	return []Check{reach, disc, clock}
}

func (u *Doctor) keychain(ctx context.Context) Check {
	used, err := u.storage.Keychain(ctx)
	switch {
	case err == nil && used:
		return Check{Name: "keychain", Status: CheckPass, Detail: "the OS keychain answered; sessions are kept there"}
	case err == nil:
		return Check{Name: "keychain", Status: CheckPass, Detail: "the OS keychain answered (not used: TokenStorage is " + string(u.settings.TokenStorage) + ")"}
	case used:
		return u.fail("keychain", err)
	}
	return Check{Name: "keychain", Status: CheckSkip,
		Detail: "not usable (" + errorMessage(err) + "); not needed with TokenStorage " + string(u.settings.TokenStorage)}
}

func (u *Doctor) cacheDir() Check {
	dir, err := u.storage.CacheDir()
	if err != nil {
		return u.fail("token cache", err)
	}
	return Check{Name: "token cache", Status: CheckPass, Detail: dir + " is private to this user"}
}

func (u *Doctor) sessions(ctx context.Context) Check {
	files, err := u.storage.Sessions(ctx)
	if err != nil {
		return u.fail("sessions", err)
	}
	if len(files) == 0 {
		return Check{Name: "sessions", Status: CheckPass, Detail: "no stored sessions"}
	}
	var bad []string
	var moved []string
	var first error
	for _, f := range files {
		if f.Err == nil {
			continue
		}
		if first == nil {
			first = f.Err // the first unreadable file decides the fix
		}
		line := errorMessage(f.Err)
		if !strings.Contains(line, f.Path) {
			line = f.Path + ": " + line
		}
		if f.MovedTo != "" {
			line += "; moved aside to " + f.MovedTo
			moved = append(moved, f.MovedTo)
		}
		bad = append(bad, line)
	}
	if len(bad) == 0 {
		return Check{Name: "sessions", Status: CheckPass, Detail: fmt.Sprintf("%d stored session(s), all readable", len(files))}
	}
	c := u.fail("sessions", first)
	c.Detail = fmt.Sprintf("%d of %d stored session(s) unreadable: %s", len(bad), len(files), strings.Join(bad, "; "))
	c.Moved = moved
	if len(moved) > 0 {
		c.Fix = "Sign in again (`" + u.settings.LoginCommand() + "`); the moved files are kept in case the right passphrase or keychain can still open them."
	}
	return c
}

func (u *Doctor) keyCache(ctx context.Context, kc ports.KeyCacheInspector) Check {
	rep, err := kc.KeyCache(ctx, true)
	switch {
	case err != nil:
		return u.fail("key cache", err)
	case rep.Unavailable != "":
		return Check{Name: "key cache", Status: CheckSkip,
			Detail: "not available: " + rep.Unavailable + "; no key is kept"}
	case rep.Off:
		return Check{Name: "key cache", Status: CheckPass,
			Detail: fmt.Sprintf("forgot %d cached key(s) in the %s; KeyCacheTTL is 0, so no key is kept", rep.Forgotten, rep.Where)}
	}
	return Check{Name: "key cache", Status: CheckPass,
		Detail: fmt.Sprintf("forgot %d cached key(s) in the %s; the next command derives the key (or reads the keychain) again, then keeps it for %s",
			rep.Forgotten, rep.Where, shortDuration(rep.TTL))}
}

// shortDuration prints 15m, not 15m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sharedCache checks the fleet cache of TokenStorage: redis, when the
// storage is one: it answers, and this client's entry (if any) opens.
// Jobs work without it, so a failure is also said to be survivable.
func (u *Doctor) sharedCache(ctx context.Context) (Check, bool) {
	in, ok := u.storage.(ports.SharedCacheInspector)
	if !ok {
		return Check{}, false
	}
	st, ok := in.SharedCache(ctx)
	if !ok {
		return Check{}, false
	}
	where := st.Location + " (" + st.Mode + ")"
	switch {
	case !st.Reachable:
		return u.fail("shared cache", domain.E(domain.KindUnreachable, where+" is not usable: "+st.Problem,
			"Check TokenCacheUrl, the network path and the cache's password (STELLA_TOKEN_CACHE_PASSWORD_FILE); until then every job asks the Authority itself.")), true
	case st.EntryError != "":
		return u.fail("shared cache", domain.E(domain.KindStorage, where+": this client's entry does not open: "+st.EntryError,
			"The next job replaces it; `stella auth logout` removes it now. An entry that keeps breaking means someone writes to it.")), true
	}
	detail := where + " answered"
	switch {
	case st.Entry:
		detail += "; this client's token was issued " + Words(st.EntryAge) + " ago and is shared for " + Words(st.EntryTTL) + " more"
	default:
		detail += "; no entry for this client yet"
	}
	if st.LockHolder != "" {
		detail += "; lock held by " + st.LockHolder
	}
	return Check{Name: "shared cache", Status: CheckPass, Detail: detail}, true
}
