package app

import (
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// binding is the proof key of a session: made once at sign-in and kept with
// the session, so a cached DPoP-bound token works in the next process.
type binding struct {
	key domain.Secret
	jkt string
	x5t string // mTLS: the client certificate's thumbprint
}

// binder decides what binds a session's tokens to this client (SPEC §3.9):
// a DPoP key (RFC 9449), the client certificate (RFC 8705), or nothing
// for bearer tokens.
type binder struct {
	mode   domain.AuthMode
	prover ports.Prover
	cert   ports.ClientCertificate
}

// fresh is the binding of a new session: a new DPoP key (a new sign-in gets
// a new proof key), or the client certificate's current thumbprint.
func (b binder) fresh() (binding, error) {
	switch b.mode {
	case domain.AuthModeDPoP:
		key, jkt, err := b.prover.NewKey()
		return binding{key: key, jkt: jkt}, err
	case domain.AuthModeMTLS:
		x5t, err := b.cert.Thumbprint()
		return binding{x5t: x5t}, err
	}
	return binding{}, nil
}

// ready checks, before a renewal asks anything, that this configuration
// can bind tokens at all: in mTLS mode the client certificate must be
// there, so a configuration without one is a usage error (2) whether or not
// a session is stored. DPoP needs nothing here: a refresh proves with the
// session's key, and a new grant makes its key when it is sent.
func (b binder) ready() error {
	if b.mode == domain.AuthModeMTLS {
		_, err := b.cert.Thumbprint()
		return err
	}
	return nil
}

// of is the session's own binding. A refresh of a DPoP-bound session is
// proven with it: the Authority binds the refresh token to the session's
// key and refuses a proof made with any other (RFC 9449 §5), so a renewal
// makes no key.
func (binder) of(s domain.Session) binding {
	return binding{key: s.DPoPKey, jkt: s.Constraint.JKT, x5t: s.Constraint.X5tS256}
}

// regrant is the binding of a new grant that replaces stored (client
// credentials again): the session's DPoP key when it has one, so the key
// stays the session's for its whole life, else a fresh binding (the
// certificate's thumbprint as it is now, or a first key).
func (b binder) regrant(stored *domain.Session) (binding, error) {
	if stored != nil && !stored.DPoPKey.IsZero() {
		return b.of(*stored), nil
	}
	return b.fresh()
}
