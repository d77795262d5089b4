package fleetcache

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// TestContract runs the store contract on a real redis-server. The fleet
// cache keeps one client's client-credentials session, so it runs the
// one-session contract; each store gets its own client secret, hence its
// own entry, so the cases do not see each other's sessions.
func TestContract(t *testing.T) {
	addr, _ := redisServer(t)
	var n atomic.Int32
	storetest.Run(t, "fleetcache", func(t *testing.T) ports.SessionStore {
		secret := domain.NewSecret(fmt.Sprintf("contract-secret-%d", n.Add(1)))
		s := New(Config{URL: "redis://" + addr, Key: storetest.Key,
			Binding:    Binding{Issuer: storetest.Key.Issuer, ClientID: storetest.Key.ClientID, Scopes: domain.Scopes{"openid", "packs.read"}, Mode: domain.AuthModeDPoP},
			Credential: func() (domain.Secret, error) { return secret, nil },
			LockTTL:    5 * time.Second, OpTimeout: 5 * time.Second,
			// The suite's tokens are valid for an hour from storetest.Now:
			// shared, not dropped as due.
			Now: func() time.Time { return storetest.Now },
			// A bypass would pass the cases on the in-memory fallback
			// without Redis: the contract is the shared cache's.
			Warn: func(line string) { t.Errorf("the cache was bypassed: %s", line) }})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, storetest.OneSession(domain.GrantClientCredentials))
}
