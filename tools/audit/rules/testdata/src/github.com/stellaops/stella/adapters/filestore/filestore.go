package filestore

import (
	"golang.org/x/oauth2"

	"github.com/stellaops/stella/app" // want `audit\(layer-adapter\): adapters/filestore must not import app`
	"github.com/stellaops/stella/domain"
)

var _ = app.Name

type Store struct{}

// Token returns the raw OAuth token from an adapter's exported method.
func (Store) Token() *oauth2.Token { return nil } // want `audit\(raw-credential\)` `audit\(raw-credential\)`

// Record keeps a passphrase in the clear.
type Record struct {
	Passphrase []byte // want `audit\(credential-field\)`
	Dir        string
}

func save(s domain.Session) []byte { return domain.EncodeSession(s) }
