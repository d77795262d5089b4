package app

import (
	"log"
	"net/http"
	"os"

	dbus "github.com/godbus/dbus/v5"        // want `audit\(keyring\): only adapters/keychain may import github.com/godbus/dbus/v5` `audit\(layer-app\)`
	keyring "github.com/zalando/go-keyring" // want `audit\(keyring\): only adapters/keychain may import github.com/zalando/go-keyring` `audit\(layer-app\)`
	"go.uber.org/fx"                        // want `audit\(layer-app\): app may import only domain, ports, the standard library, and go.uber.org/fx in module.go \(app imports go.uber.org/fx\)`

	"github.com/stellaops/stella/adapters/auth" // want `audit\(layer-app\).*app imports github.com/stellaops/stella/adapters/auth`
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports/storetest" // want `audit\(layer-app\).*app imports github.com/stellaops/stella/ports/storetest`
)

const Name = "app"

var _ = fx.Module
var _ = storetest.Run
var _ = keyring.Get
var _ dbus.ObjectPath

// Token is a local type that merely shares the name: no report.
type Token struct{ Scope string }

// unrelated has a Reveal method that is not domain.Secret's: no report.
type unrelated struct{}

func (unrelated) Reveal() string { return "" }

// revealer is an interface with a Reveal method: calling it is not
// calling domain.Secret.Reveal.
type revealer interface{ Reveal() string }

// wrapped embeds a Secret: its promoted Reveal is domain.Secret's.
type wrapped struct{ domain.Secret }

func reveals(s domain.Secret, r revealer) {
	_ = s.Reveal() // want `audit\(reveal\): Secret.Reveal reveals a secret outside domain, adapters/auth, adapters/transport, adapters/dpop, adapters/filestore, adapters/keychain, adapters/fleetcache, internal/cli, ports/storetest; pass the domain.Secret along`
	_ = unrelated{}.Reveal()
	_ = r.Reveal()
	_ = Token{}
	_ = domain.EncodeSession(domain.Session{}) // want `audit\(reveal\): EncodeSession reveals a secret`
	f := s.Reveal                              // want `audit\(reveal\)`
	_ = f
	_ = wrapped{s}.Reveal() // want `audit\(reveal\)`
}

// Options holds a credential in a plain string.
type Options struct {
	ClientSecret string // want `audit\(credential-field\): Options.ClientSecret holds a credential in a plain string; use domain.Secret`
	IDToken      string // want `audit\(credential-field\)`
	idToken      string // want `audit\(credential-field\)`
	TokenType    string
	SecretFile   string
	Scope        string
	Secret       domain.Secret
	RefreshToken raw    // want `audit\(credential-field\)`
	Code         string // want `audit\(credential-field\): Options.Code`
	ErrorCode    string
	Passcode     int
}

// raw is a named string: a string all the same.
type raw string

// options is unexported: not reported.
type options struct{ Password string }

func tokens() {
	t := auth.Raw()                      // want `audit\(raw-token\): raw credential type oauth2.Token outside adapters/auth \(here \*oauth2.Token\)`
	_ = t                                // want `audit\(raw-token\)`
	_ = auth.Adapter{}.Raw().AccessToken // want `audit\(raw-token\)`
	_ = options{}
}

// Alias is a type alias of the raw token, reached without importing oauth2.
type Alias = auth.RawToken // want `audit\(raw-token\)`

// Client is a local type named like net/http's: no report.
type Client struct{}

func clients(c *http.Client) {
	_ = &http.Client{}      // want `audit\(http-client\): http.Client built outside adapters/transport, adapters/auth`
	_ = new(http.Transport) // want `audit\(http-client\): http.Transport built outside adapters/transport, adapters/auth`
	var zero http.Client    // want `audit\(http-client\)`
	_ = zero
	_ = http.DefaultTransport.(*http.Transport).Clone() // want `audit\(http-client\): http.DefaultTransport bypasses`
	_, _ = http.Get("https://example.com")              // want `audit\(http-client\): http.Get bypasses the authenticated transport`
	_ = http.DefaultClient                              // want `audit\(http-client\): http.DefaultClient`
	_ = &Client{}
	_, _ = c.Get("https://example.com") // a method of a client someone handed us: allowed
}

// Exit is a local function named like os.Exit: no report.
func Exit(int) {}

func exits(l *log.Logger) {
	if len(os.Args) > 5 {
		os.Exit(3) // want `audit\(exit\): os.Exit outside cmd/stella/main.go, cmd/stella-jq/main.go; return an error with a domain kind`
	}
	log.Fatal("x") // want `audit\(exit\): log.Fatal outside`
	l.Panicf("x")  // want `audit\(exit\): log.Logger.Panicf outside`
	panic("no")    // want `audit\(exit\): panic outside`
	Exit(1)
	{
		panic := func(string) {}
		panic("shadowed: not the builtin")
	}
}
