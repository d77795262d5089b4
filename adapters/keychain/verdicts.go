package keychain

import (
	"context"
	"os"
	"time"

	"github.com/stellaops/stella/ports"
)

// Verdicts is the ports.KeychainProbe of a keychain: it probes keys and
// keeps verdicts in dir (the token cache directory), per desktop session.
type Verdicts struct {
	keys *Keys
	dir  string
}

var _ ports.KeychainProbe = (*Verdicts)(nil)

// NewVerdicts returns the probe of keys; it does no I/O.
func NewVerdicts(keys *Keys, dir string) *Verdicts { return &Verdicts{keys: keys, dir: dir} }

// Remembered is the verdict kept in dir, if it still holds at now.
func (p *Verdicts) Remembered(now time.Time) (ports.KeychainVerdict, bool) {
	v, ok := Remembered(p.dir, now)
	return v.port(), ok
}

// Probe asks the keychain now and keeps nothing.
func (p *Verdicts) Probe(ctx context.Context, now time.Time) ports.KeychainVerdict {
	return p.keys.FreshProbe(ctx, now).port()
}

// Remember keeps v in dir for this desktop session: the one this process
// runs in, where v was found.
func (p *Verdicts) Remember(v ports.KeychainVerdict) {
	Remember(p.dir, Verdict{OK: v.OK, Detail: v.Detail, Bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), At: v.At})
}

func (v Verdict) port() ports.KeychainVerdict {
	return ports.KeychainVerdict{OK: v.OK, Detail: v.Detail, At: v.At, Cached: v.Cached}
}
