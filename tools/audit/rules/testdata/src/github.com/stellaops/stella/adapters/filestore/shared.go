package filestore

import (
	"github.com/redis/go-redis/v9" // want `audit\(fleetcache\): only adapters/fleetcache may import github.com/redis/go-redis/v9; reach the shared cache through the ports it implements`
)

// A second adapter talking to Redis would be a second way to store tokens.
var shared redis.UniversalClient
