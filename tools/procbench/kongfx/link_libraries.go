//go:build libraries

package main

import (
	"context"
	"net/http"
	"os"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/goccy/go-yaml/parser"
	"github.com/godbus/dbus/v5"
	"github.com/redis/go-redis/v9"
	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// link is built with -tags libraries: the "libraries" row of make bench,
// kongfx linked with every library stella's own start-up links —
// net/http, go-oidc, golang.org/x/oauth2, go-jose, go-keyring and godbus,
// go-redis, goccy/go-yaml — none of them called. Go initialises every
// linked package before main and the runtime walks every itab at start,
// so this is the least any program built from those parts costs to print
// a line: the floor under stella's figures.
func link() {
	ctx := context.Background()
	_, _ = http.Get(os.Args[1])
	_, _ = oidc.NewProvider(ctx, os.Args[1])
	_ = (&oauth2.Config{}).AuthCodeURL(os.Args[1])
	_, _ = jose.ParseSigned(os.Args[1], []jose.SignatureAlgorithm{jose.ES256})
	_, _ = keyring.Get(os.Args[1], os.Args[2])
	_, _ = dbus.SessionBus()
	_ = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: os.Args[1:]}).Get(ctx, os.Args[1]).Err()
	_, _ = parser.ParseBytes([]byte(os.Args[1]), 0)
}
