package app

import (
	"log"
	"net/http"
	"os"

	keyring "github.com/zalando/go-keyring" // want `audit\(keyring\): only adapters/keychain may import`
	"go.uber.org/fx"                        // want `audit\(layer-app\): app may import only domain, ports`

	"github.com/stellaops/stella/adapters/auth" // want `audit\(layer-app\)`
	"github.com/stellaops/stella/domain"
)

const Name = "app"

var _ = fx.Module
var _ = keyring.Get

// Token is a local type that merely shares the name: no report.
type Token struct{ Scope string }

// unrelated has a Reveal method that is not domain.Secret's: no report.
type unrelated struct{}

func (unrelated) Reveal() string { return "" }

// Options holds a credential in a plain string.
type Options struct {
	ClientSecret string // want `audit\(credential-field\): Options.ClientSecret holds a credential`
	TokenType    string
	SecretFile   string
	Scope        string
}

func use(s domain.Secret) {
	_ = s.Reveal() // want `audit\(reveal\): Secret.Reveal may be called only by`
	_ = unrelated{}.Reveal()
	_ = Token{}
	_ = domain.EncodeSession(domain.Session{}) // want `audit\(reveal\): EncodeSession`
	t := auth.Raw()                            // want `audit\(raw-credential\)` `audit\(raw-credential\)`
	_ = t                                      // want `audit\(raw-credential\)`
	_ = &http.Client{}                         // want `audit\(http-client\)`
	_ = new(http.Transport)                    // want `audit\(http-client\)`
	_, _ = http.Get("https://example.com")     // want `audit\(http-client\)`
	_ = http.DefaultClient                     // want `audit\(http-client\)`
	if len(os.Args) > 5 {
		os.Exit(3) // want `audit\(exit\): os.Exit outside cmd/stella/main.go`
	}
	log.Fatal("x") // want `audit\(exit\): log.Fatal`
	panic("no")    // want `audit\(exit\): panic`
}

// Alias is a type alias of the raw token, reached without importing oauth2.
type Alias = auth.RawToken // want `audit\(raw-credential\)` `audit\(raw-credential\)`
