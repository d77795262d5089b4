package cli

import (
	"context"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// profileAuthorities builds the Authority client of another profile's
// session, for `auth logout --all` and pending revocations: at the
// Authority and as the client the session itself records (SPEC §3.2), so
// a token only ever goes back where it came from.
type profileAuthorities struct{ rt *Runtime }

func (p profileAuthorities) AuthorityFor(ctx context.Context, key domain.SessionKey) (ports.Authority, error) {
	s, err := p.rt.loadSettings(key.Profile)
	if err != nil || s.AuthorityURL != key.Issuer || s.ClientID != key.ClientID {
		// No profile file (a session made from environment variables), or
		// a profile that now names another Authority or client: the
		// session's own record says where its tokens go. A client secret
		// comes along only from settings that name that very client.
		s = p.sessionSettings(key, s, err == nil)
	}
	var a ports.Authority
	if err := p.rt.populate(s, nil, &a); err != nil {
		return nil, err
	}
	return a, nil
}

// sessionSettings configures the Authority and client a session records,
// with what else is known: the profile's settings when it still resolves,
// else this invocation's, else defaults.
func (p profileAuthorities) sessionSettings(key domain.SessionKey, profile domain.Settings, profileOK bool) domain.Settings {
	base := profile
	if !profileOK {
		cur, err := p.rt.Settings()
		if err != nil {
			cur = p.rt.fallbackSettings()
		}
		base = cur
	}
	s := base
	s.Profile, s.AuthorityURL, s.ClientID = key.Profile, key.Issuer, key.ClientID
	if base.AuthorityURL != key.Issuer || base.ClientID != key.ClientID {
		s.ClientSecret, s.ClientSecretFile = domain.Secret{}, ""
	}
	return s
}
