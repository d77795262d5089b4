package app

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCredentialHotPath is the cost of handing out a cached, valid
// token: what every backend call pays. Baseline: BenchmarkMutexOnly.
func BenchmarkCredentialHotPath(b *testing.B) {
	f := newTM(&testing.T{}, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now, now.Add(time.Hour))
	ctx := context.Background()
	if _, err := f.tm.Credential(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.tm.Credential(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMutexOnly is the floor: taking and releasing the manager's lock.
func BenchmarkMutexOnly(b *testing.B) {
	f := newTM(&testing.T{}, testSettings())
	b.ReportAllocs()
	for b.Loop() {
		f.tm.mu.Lock()
		_ = f.tm.current
		f.tm.mu.Unlock()
	}
}
