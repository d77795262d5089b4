package devauthority

import (
	"net/http"

	"github.com/stellaops/stella/domain" // want `audit\(isolated\): tools/devauthority must not import`
)

var _ domain.Secret

// The development Authority is a server: its own HTTP plumbing is fine.
var _ = &http.Client{}
