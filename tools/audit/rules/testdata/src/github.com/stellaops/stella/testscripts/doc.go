// Package testscripts is test infrastructure: outside the layer rules and
// the HTTP rule.
package testscripts

import (
	"net/http"

	"github.com/stellaops/stella/adapters/auth"
	"github.com/stellaops/stella/tools/devauthority"
)

var _ = auth.Settings{}
var _ = devauthority.Serve

func fetch() { _, _ = http.Get("http://127.0.0.1/") }
