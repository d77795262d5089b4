package filestore

import (
	"github.com/redis/go-redis/v9" // tests may talk to Redis directly
)

var _ redis.UniversalClient
