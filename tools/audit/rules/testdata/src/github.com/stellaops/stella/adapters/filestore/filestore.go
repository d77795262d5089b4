package filestore

import (
	"context"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/app" // want `audit\(layer-adapter\): an adapter may import only domain, ports, the standard library and third-party libraries, never app or another adapter \(adapters/filestore imports github.com/stellaops/stella/app\)`
	"github.com/stellaops/stella/domain"
)

var _ = app.Name

type Store struct{}

// Token returns the raw OAuth token from an adapter's exported method.
func (Store) Token() *oauth2.Token { return nil } // want `audit\(raw-token\)`

func (Store) Take(t *oauth2.Token) {} // want `audit\(raw-token\)`

type cache struct {
	tok oauth2.Token // want `audit\(raw-token\)`
}

type tokens = []*oauth2.Token // want `audit\(raw-token\)`

var anon struct{ *oauth2.Token } // want `audit\(raw-token\)`

func grants(cfg *oauth2.Config, v struct{ AccessToken, RefreshToken string }) {
	_ = oauth2.Token{}                                                  // want `audit\(raw-token\)`
	_ = oauth2.Token(v)                                                 // want `audit\(raw-token\)`
	_, _ = cfg.PasswordCredentialsToken(context.Background(), "u", "p") // want `audit\(password-grant\): Config.PasswordCredentialsToken is a raw credential grant, confined to adapters/auth`
	_ = cfg.AuthCodeURL("state")                                        // the rest of the library is not a raw credential
	_ = cache{}
	var m map[string]tokens // want `audit\(raw-token\)`
	_ = m                   // want `audit\(raw-token\)`
}

// Record keeps a passphrase in the clear.
type Record struct {
	Passphrase []byte // want `audit\(credential-field\): Record.Passphrase holds a credential in a plain \[\]byte`
	Dir        string
	Key        domain.Secret
}

func save(s domain.Session) []byte { return domain.EncodeSession(s) } // the store encodes sessions: allowed
