package devauthority

import (
	"net/http"

	"go.uber.org/fx"      // third-party: allowed
	"golang.org/x/oauth2" // raw credentials are a test Authority's business: allowed

	"github.com/stellaops/stella/adapters/dpop"          // want `audit\(layer-devauthority\): tools/devauthority must import nothing of the client`
	"github.com/stellaops/stella/domain"                 // want `audit\(layer-devauthority\)`
	"github.com/stellaops/stella/tools/devauthority/jwt" // its own code: allowed
)

var _ domain.Secret
var _ = dpop.Key
var _ = fx.Module
var _ = jwt.Sign

// Client is the Authority's test client: HTTP plumbing is fine in tools.
var Client = &http.Client{}

// Grant keeps raw tokens, as a server does.
type Grant struct {
	Token        *oauth2.Token
	ClientSecret string
}

func Serve() {}

func mustServe(err error) {
	if err != nil {
		panic(err) // want `audit\(exit\): panic outside cmd/stella/main.go`
	}
}
