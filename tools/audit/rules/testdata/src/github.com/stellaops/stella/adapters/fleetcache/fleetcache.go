package fleetcache

import (
	"github.com/redis/go-redis/v9" // the fleet cache adapter owns go-redis

	"github.com/stellaops/stella/domain"
)

type Store struct{ client redis.UniversalClient }

// Seal may reveal the client secret: the entry key is derived from it.
func Seal(s domain.Secret) string { return s.Reveal() }
