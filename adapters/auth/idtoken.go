package auth

import (
	"context"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/stellaops/stella/domain"
)

// verifyIDToken checks signature (JWKS), iss, aud, exp and, for the code
// flow, nonce (OIDC Core §3.1.3.7), with go-oidc.
func (a *Authority) verifyIDToken(ctx context.Context, m *metadata, raw, nonce string) (map[string]any, error) {
	p := a.oidcProvider(ctx, m)
	v := p.Verifier(&oidc.Config{ClientID: a.settings.ClientID, Now: a.now})
	idt, err := v.Verify(oidc.ClientContext(ctx, a.httpClient()), raw)
	if err != nil {
		if k := domain.KindOf(err); k == domain.KindUnreachable || k == domain.KindServer {
			return nil, err
		}
		return nil, domain.Wrap(domain.KindProtocol, err, "the ID token failed verification", "Nothing was stored. Check the Authority; sign in again.")
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, domain.E(domain.KindProtocol, "the ID token's nonce does not match this sign-in", "Nothing was stored. Sign in again.")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, domain.Wrap(domain.KindProtocol, err, "the ID token's claims are not readable", "Sign in again.")
	}
	if domain.ClaimString(claims, "sub") == "" {
		return nil, domain.E(domain.KindProtocol, "the ID token has no subject", "Nothing was stored. Check the Authority.")
	}
	// OIDC Core §2: iat is required; go-oidc does not insist on it.
	if idt.IssuedAt.IsZero() {
		return nil, domain.E(domain.KindProtocol, "the ID token has no issue time (iat)", "Nothing was stored. Check the Authority.")
	}
	return claims, nil
}

// oidcProvider is go-oidc's view of the Authority, for ID-token checks.
func (a *Authority) oidcProvider(ctx context.Context, m *metadata) *oidc.Provider {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider == nil {
		cfg := oidc.ProviderConfig{IssuerURL: m.Issuer, AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
			DeviceAuthURL: m.DeviceEndpoint, UserInfoURL: m.UserinfoEndpoint, JWKSURL: m.JWKSURI, Algorithms: m.IDTokenAlgs}
		a.provider = cfg.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), a.httpClient()))
	}
	return a.provider
}
