package main

import (
	"context"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// profileAuthorities builds the Authority client of another profile's
// session from that profile's settings, for `auth logout --all`.
type profileAuthorities struct{ rt *Runtime }

func (p profileAuthorities) AuthorityFor(ctx context.Context, key domain.SessionKey) (ports.Authority, error) {
	s, err := p.rt.loadSettings(key.Profile)
	if err != nil {
		return nil, err
	}
	// The profile may have been changed since it signed in: its tokens go
	// only to the Authority and client they came from.
	if s.AuthorityURL != key.Issuer || s.ClientID != key.ClientID {
		return nil, domain.E(domain.KindUsage, "the profile now names "+s.AuthorityURL+" as client "+s.ClientID+
			", not the Authority and client the session came from",
			"The session was deleted; its tokens stay valid until they expire.")
	}
	var a ports.Authority
	if err := p.rt.populate(s, nil, &a); err != nil {
		return nil, err
	}
	return a, nil
}
