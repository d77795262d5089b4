package keychain

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stellaops/stella/ports"
)

// The port keeps a verdict where the next command's Remembered finds it,
// for this desktop session, and only for as long as such a verdict holds.
func TestVerdictsKeepAndRecall(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		verdict ports.KeychainVerdict
		later   time.Duration
		held    bool
	}{
		{name: "answered, within the day", verdict: ports.KeychainVerdict{OK: true, At: now}, later: 11 * time.Hour, held: true},
		{name: "answered, a day later", verdict: ports.KeychainVerdict{OK: true, At: now}, later: 13 * time.Hour},
		{name: "failed, minutes later", verdict: ports.KeychainVerdict{Detail: "no D-Bus session bus.", At: now}, later: 5 * time.Minute, held: true},
		{name: "failed, re-checked soon", verdict: ports.KeychainVerdict{Detail: "no D-Bus session bus.", At: now}, later: 11 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tokens")
			p := NewVerdicts(New("stella-test-unused", time.Second), dir)
			if _, ok := p.Remembered(now); ok {
				t.Fatal("a verdict before any was kept")
			}
			p.Remember(tc.verdict)
			v, ok := p.Remembered(now.Add(tc.later))
			if ok != tc.held {
				t.Fatalf("held = %v, want %v", ok, tc.held)
			}
			if want := (ports.KeychainVerdict{OK: tc.verdict.OK, Detail: tc.verdict.Detail, At: now, Cached: true}); ok && v != want {
				t.Errorf("recalled %+v, want %+v", v, want)
			}
		})
	}
}
