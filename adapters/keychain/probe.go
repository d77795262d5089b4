package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stellaops/stella/domain"
)

// Verdict is what a probe found.
type Verdict struct {
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"` // why not, when not OK
	Bus    string    `json:"bus"`              // the desktop session it holds for
	At     time.Time `json:"at"`
	Cached bool      `json:"-"`
}

// How long a verdict is trusted. A working keychain stays working for a
// desktop session; a missing one is re-checked soon, so starting or
// unlocking the keyring takes effect without a manual step.
const (
	okFor     = 12 * time.Hour
	failedFor = 10 * time.Minute
	probeFile = "keychain-probe.json"
)

// FreshProbe asks the keychain now and keeps nothing; Remember keeps the
// verdict for the commands that follow (at most one probe per desktop
// session and period, so a hung D-Bus costs one timeout, not one per
// command). The storage choice (app) decides when a verdict is kept:
// memory storage leaves no file behind.
func (k *Keys) FreshProbe(ctx context.Context, now time.Time) Verdict {
	v := Verdict{OK: true, Bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), At: now.UTC()}
	if err := k.Probe(ctx); err != nil {
		v.OK, v.Detail = false, detail(err)
	}
	return v
}

// Remember keeps v in dir for Remembered. Best effort: without it the next
// command probes again.
func Remember(dir string, v Verdict) {
	path := filepath.Join(dir, probeFile)
	if b, err := json.Marshal(v); err == nil && os.MkdirAll(dir, 0o700) == nil && privateDir(dir) {
		if tmp, err := os.CreateTemp(dir, "."+probeFile+".tmp-*"); err == nil {
			_, werr := tmp.Write(b)
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				_ = os.Rename(tmp.Name(), path)
			}
			_ = os.Remove(tmp.Name())
		}
	}
}

// Remembered returns the verdict a probe kept in dir, if it still holds
// for this desktop session at now; it never asks the keychain.
func Remembered(dir string, now time.Time) (Verdict, bool) {
	if !privateDir(dir) {
		return Verdict{}, false // not ours alone: nothing in it is believed
	}
	f, err := os.OpenFile(filepath.Join(dir, probeFile), os.O_RDONLY|noFollow|syscall.O_NONBLOCK, 0)
	if err != nil {
		return Verdict{}, false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return Verdict{}, false
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return Verdict{}, false
	}
	var v Verdict
	ttl := failedFor
	if json.Unmarshal(b, &v) == nil && v.OK {
		ttl = okFor
	}
	if v.Bus != os.Getenv("DBUS_SESSION_BUS_ADDRESS") || v.At.After(now) || now.Sub(v.At) >= ttl {
		return Verdict{}, false
	}
	v.Cached = true
	return v, true
}

// detail is the cause of a probe failure in a few words.
func detail(err error) string {
	var de *domain.Error
	if errors.As(err, &de) && de.Err != nil {
		return de.Err.Error()
	}
	if errors.As(err, &de) {
		return strings.TrimPrefix(de.Message, "the OS keychain ")
	}
	return err.Error()
}
