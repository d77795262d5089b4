//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

import "github.com/zalando/go-keyring"

// get is go-keyring's own on macOS and Windows, where a read is one call
// to the system's keychain API.
var get = keyring.Get
