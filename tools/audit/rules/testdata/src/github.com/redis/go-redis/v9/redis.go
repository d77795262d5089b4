// Package redis is a stub of github.com/redis/go-redis/v9.
package redis

type UniversalClient interface{ Close() error }
