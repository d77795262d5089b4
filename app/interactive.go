package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// defaultDeviceInterval is RFC 8628 §3.5's default when the server names none.
const defaultDeviceInterval = 5 * time.Second

// People is what an interactive sign-in needs besides the Authority.
type People struct {
	Authority ports.InteractiveAuthority
	Listener  ports.RedirectListener
	Browser   ports.Browser
	Random    ports.Random
	Sleeper   ports.Sleeper
	Console   ports.Console
}

// browserFlow is the Authorization Code flow with PKCE on a loopback
// redirect (RFC 8252, RFC 7636, OIDC Core §3.1).
func (u *Login) browserFlow(ctx context.Context, in LoginInput, req ports.TokenRequest, b binding) (domain.Grant, error) {
	p := u.people
	verifier, err := p.Random.Token(32) // 43 characters: RFC 7636 §4.1's minimum
	if err != nil {
		return domain.Grant{}, err
	}
	state, err := p.Random.Token(16)
	if err != nil {
		return domain.Grant{}, err
	}
	nonce, err := p.Random.Token(16)
	if err != nil {
		return domain.Grant{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	// The listener is up before anything is opened or printed.
	r, err := p.Listener.Listen(ctx, in.CallbackPort, state)
	if err != nil {
		return domain.Grant{}, err
	}
	defer r.Close()
	url, err := p.Authority.AuthorizationURL(ctx, ports.AuthorizationRequest{RedirectURI: r.RedirectURI(), State: state, Nonce: nonce, Audience: req.Audience,
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), Scopes: req.Scopes, DPoPJKT: b.jkt})
	if err != nil {
		return domain.Grant{}, err
	}
	r.SetAuthorizationURL(url)
	p.Console.Say("To sign in, open this URL in a browser on this machine:")
	p.Console.Say("  " + r.StartURL())
	if in.CallbackPort != 0 {
		p.Console.Say(fmt.Sprintf("From another machine, forward the port first: ssh -L %d:127.0.0.1:%d <this host>", in.CallbackPort, in.CallbackPort))
	}
	if !in.NoBrowser {
		if err := p.Browser.Open(ctx, r.StartURL()); err != nil {
			p.Console.Say("warning: " + err.Error() + "; open the URL above yourself")
		} else {
			p.Console.Say("Opened your browser; waiting for the sign-in to finish…")
		}
	}
	wctx, cancel := context.WithTimeout(ctx, u.settings.WaitTimeout)
	defer cancel()
	resp, err := r.Wait(wctx)
	if err != nil {
		if ctx.Err() != nil {
			return domain.Grant{}, ctx.Err()
		}
		return domain.Grant{}, err
	}
	if err := p.Authority.CheckIssuer(ctx, resp.Issuer, resp.IssuerPresent); err != nil {
		r.Finish(err)
		return domain.Grant{}, err
	}
	g, err := p.Authority.ExchangeCode(ctx, req, resp.Code, domain.NewSecret(verifier), r.RedirectURI(), nonce)
	r.Finish(err) // the browser's page says what the terminal will
	return g, err
}

// deviceFlow is the Device Authorization Grant (RFC 8628).
func (u *Login) deviceFlow(ctx context.Context, req ports.TokenRequest) (domain.Grant, error) {
	p := u.people
	da, err := p.Authority.StartDevice(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	p.Console.Say(fmt.Sprintf("To sign in, open %s and enter the code %s", da.VerificationURI, GroupUserCode(da.UserCode)))
	if da.VerificationURIComplete != "" {
		p.Console.Say("Or open " + da.VerificationURIComplete.String())
	}
	interval := da.Interval
	if interval <= 0 {
		interval = defaultDeviceInterval
	}
	// The countdown shows the real time left: the code's lifetime, or
	// --timeout when that ends the wait sooner, saying which.
	lifetime := da.ExpiresIn
	switch {
	case lifetime <= 0:
		lifetime = u.settings.WaitTimeout
		p.Console.Say(fmt.Sprintf("Waiting up to %s (--timeout); the Authority did not say how long the code lives.", Words(lifetime)))
	case lifetime > u.settings.WaitTimeout:
		p.Console.Say(fmt.Sprintf("The code is valid for %s; stella waits %s (--timeout; pass --timeout %s to wait as long as the code lives).",
			Words(roundMinute(lifetime)), Words(u.settings.WaitTimeout), durationFlag(lifetime)))
		lifetime = u.settings.WaitTimeout
	default:
		p.Console.Say(fmt.Sprintf("The code is valid for %s.", Words(roundMinute(lifetime))))
	}
	deadline := u.clock.Now().Add(lifetime)
	defer p.Console.Done()
	for {
		left := deadline.Sub(u.clock.Now())
		if left <= 0 {
			return domain.Grant{}, domain.E(domain.KindTimeout, "the device sign-in was not approved in time",
				"Run `"+LoginCommand(u.settings)+" --headless` again and approve it within "+Words(lifetime)+".")
		}
		p.Console.Progress(fmt.Sprintf("Waiting for approval… %s left", Words(left.Truncate(time.Minute)+time.Minute)))
		if err := p.Sleeper.Sleep(ctx, min(interval, left)); err != nil {
			return domain.Grant{}, err
		}
		g, err := p.Authority.PollDevice(ctx, req, da.DeviceCode)
		switch {
		case errors.Is(err, ports.ErrAuthorizationPending):
		case errors.Is(err, ports.ErrSlowDown):
			interval += 5 * time.Second // RFC 8628 §3.5
		case err != nil:
			return domain.Grant{}, err
		default:
			return g, nil
		}
	}
}

// roundMinute rounds a lifetime of minutes to whole minutes: a server's
// expires_in of 599 is "10 min", not "9 min".
func roundMinute(d time.Duration) time.Duration {
	if d >= 2*time.Minute {
		return d.Round(time.Minute)
	}
	return d
}

// durationFlag writes d, rounded up to a whole minute, as --timeout takes it.
func durationFlag(d time.Duration) string {
	m := (d + time.Minute - 1) / time.Minute
	return fmt.Sprintf("%dm", m)
}

// GroupUserCode shows an 8-character user code as XXXX-XXXX, the way the
// verification page expects it to be typed (RFC 8628 §6.1), sanitised and
// cut: it is the Authority's text.
func GroupUserCode(u domain.Untrusted) string {
	c := u.Cut(64)
	if len(c) == 8 && !strings.ContainsAny(c, "- ") {
		return c[:4] + "-" + c[4:]
	}
	return c
}
