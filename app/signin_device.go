package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// defaultDeviceInterval is RFC 8628 §3.5's default when the server names none.
const defaultDeviceInterval = 5 * time.Second

// deviceSignIn is the Device Authorization Grant (RFC 8628): a URL and a
// code to enter on another device, then polling until the person approves.
type deviceSignIn struct {
	authority ports.InteractiveAuthority
	sleeper   ports.Sleeper
	console   ports.Console
	clock     ports.Clock
	wait      time.Duration // --timeout: how long a person may take
	login     string        // the sign-in command, for the hint on expiry
}

func (deviceSignIn) grantType() string { return domain.GrantDeviceCode }
func (deviceSignIn) interactive() bool { return true }

func (f deviceSignIn) grant(ctx context.Context, in signInInput) (domain.Grant, error) {
	da, err := f.authority.StartDevice(ctx, in.req)
	if err != nil {
		return domain.Grant{}, err
	}
	f.console.Say(fmt.Sprintf("To sign in, open %s and enter the code %s", da.VerificationURI, GroupUserCode(da.UserCode)))
	if da.VerificationURIComplete != "" {
		f.console.Say("Or open " + da.VerificationURIComplete.String())
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
		lifetime = f.wait
		f.console.Say(fmt.Sprintf("Waiting up to %s (--timeout); the Authority did not say how long the code lives.", Words(lifetime)))
	case lifetime > f.wait:
		f.console.Say(fmt.Sprintf("The code is valid for %s; stella waits %s (--timeout; pass --timeout %s to wait as long as the code lives).",
			Words(roundMinute(lifetime)), Words(f.wait), durationFlag(lifetime)))
		lifetime = f.wait
	default:
		f.console.Say(fmt.Sprintf("The code is valid for %s.", Words(roundMinute(lifetime))))
	}
	deadline := f.clock.Now().Add(lifetime)
	defer f.console.Done()
	for {
		left := deadline.Sub(f.clock.Now())
		if left <= 0 {
			return domain.Grant{}, domain.E(domain.KindTimeout, "the device sign-in was not approved in time",
				"Run `"+f.login+" --headless` again and approve it within "+Words(lifetime)+".")
		}
		f.console.Progress(fmt.Sprintf("Waiting for approval… %s left", Words(left.Truncate(time.Minute)+time.Minute)))
		if err := f.sleeper.Sleep(ctx, min(interval, left)); err != nil {
			return domain.Grant{}, err
		}
		g, err := f.authority.PollDevice(ctx, in.req, da.DeviceCode)
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
	// Only a code of eight ASCII characters is split: cutting at byte 4
	// would split a multi-byte character (a replacement character stands
	// for each invalid byte of a hostile code), and print invalid UTF-8.
	if len(c) == 8 && !strings.ContainsAny(c, "- ") && isASCII(c) {
		return c[:4] + "-" + c[4:]
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
