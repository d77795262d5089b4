package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// browserSignIn is the Authorization Code flow with PKCE on a loopback
// redirect (RFC 8252, RFC 7636, OIDC Core §3.1).
type browserSignIn struct {
	authority ports.InteractiveAuthority
	listener  ports.RedirectListener
	browser   ports.Browser
	random    ports.Random
	console   ports.Console
	wait      time.Duration // --timeout: how long a person may take
}

func (browserSignIn) grantType() string { return domain.GrantAuthorizationCode }
func (browserSignIn) interactive() bool { return true }

func (f browserSignIn) grant(ctx context.Context, in signInInput) (domain.Grant, error) {
	verifier, err := f.random.Token(32) // 43 characters: RFC 7636 §4.1's minimum
	if err != nil {
		return domain.Grant{}, err
	}
	state, err := f.random.Token(16)
	if err != nil {
		return domain.Grant{}, err
	}
	nonce, err := f.random.Token(16)
	if err != nil {
		return domain.Grant{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	// The listener is up before anything is opened or printed.
	r, err := f.listener.Listen(ctx, in.CallbackPort, state)
	if err != nil {
		return domain.Grant{}, err
	}
	defer r.Close()
	url, err := f.authority.AuthorizationURL(ctx, ports.AuthorizationRequest{RedirectURI: r.RedirectURI(), State: state, Nonce: nonce, Audience: in.req.Audience,
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), Scopes: in.req.Scopes, DPoPJKT: in.binding.jkt})
	if err != nil {
		return domain.Grant{}, err
	}
	r.SetAuthorizationURL(url)
	f.console.Say("To sign in, open this URL in a browser on this machine:")
	f.console.Say("  " + r.StartURL())
	if in.CallbackPort != 0 {
		f.console.Say(fmt.Sprintf("From another machine, forward the port first: ssh -L %d:127.0.0.1:%d <this host>", in.CallbackPort, in.CallbackPort))
	}
	if !in.NoBrowser {
		if err := f.browser.Open(ctx, r.StartURL()); err != nil {
			f.console.Say("warning: " + err.Error() + "; open the URL above yourself")
		} else {
			f.console.Say("Opened your browser; waiting for the sign-in to finish…")
		}
	}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	resp, err := r.Wait(wctx)
	if err != nil {
		if ctx.Err() != nil {
			return domain.Grant{}, ctx.Err()
		}
		return domain.Grant{}, err
	}
	if err := f.authority.CheckIssuer(ctx, resp.Issuer, resp.IssuerPresent); err != nil {
		r.Finish(err)
		return domain.Grant{}, err
	}
	g, err := f.authority.ExchangeCode(ctx, in.req, resp.Code, domain.NewSecret(verifier), r.RedirectURI(), nonce)
	r.Finish(err) // the browser's page says what the terminal will
	return g, err
}
