// Package browser opens the sign-in URL: with $STELLA_BROWSER, then
// $BROWSER, then the platform's opener; and decides whether a browser can
// be opened here at all (SPEC §3.1's headless ladder).
package browser

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Opener opens URLs.
type Opener struct {
	command string // from STELLA_BROWSER or BROWSER (settings)
	env     func(string) (string, bool)
	environ func() []string
	secrets []domain.Secret // configured secrets, kept out of the browser's environment
	goos    string
}

// New returns an opener; it does no I/O.
func New(s domain.Settings) *Opener {
	return &Opener{command: s.Browser, env: os.LookupEnv, environ: os.Environ, goos: runtime.GOOS,
		secrets: []domain.Secret{s.ClientSecret, s.Password, s.CachePassphrase, s.TokenCachePassword}}
}

// Environ is the environment a started program gets (SPEC §6): stella's
// own, without the secret variables and without any variable whose value
// is a configured secret, whatever its name.
func (o *Opener) Environ() []string {
	environ := o.environ
	if environ == nil {
		environ = os.Environ
	}
	return domain.ChildEnviron(environ(), o.secrets)
}

var _ ports.Browser = (*Opener)(nil)

// CanOpen applies the ladder: a configured browser command always counts;
// macOS and Windows have a desktop; Linux needs DISPLAY or WAYLAND_DISPLAY,
// and over SSH only a forwarded display; a container without one has none.
func (o *Opener) CanOpen() (bool, string) {
	if o.command != "" {
		return true, ""
	}
	get := func(k string) string { v, _ := o.env(k); return v }
	switch o.goos {
	case "darwin", "windows":
		if get("SSH_CONNECTION") != "" || get("SSH_TTY") != "" {
			return false, "this is an SSH session"
		}
		return true, ""
	}
	display := get("DISPLAY") != "" || get("WAYLAND_DISPLAY") != ""
	ssh := get("SSH_CONNECTION") != "" || get("SSH_TTY") != ""
	switch {
	case ssh && !display:
		return false, "this is an SSH session without a forwarded display"
	case !display:
		return false, "there is no graphical display (DISPLAY / WAYLAND_DISPLAY unset)"
	}
	return true, ""
}

// Open starts the browser and returns once it was launched; it does not
// wait for the browser to exit. The browser is not tied to ctx: it
// outlives the sign-in and stella (a STELLA_BROWSER script that is still
// starting when the sign-in times out or is interrupted must not be
// killed with it); ctx bounds only how long Open waits to see it fail.
func (o *Opener) Open(ctx context.Context, url string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, args := o.commandFor(url)
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.Env = o.Environ()
	if err := cmd.Start(); err != nil {
		return domain.Wrap(domain.KindUsage, err, "could not start the browser ("+name+")",
			"Open the printed URL yourself, or set STELLA_BROWSER to a command that opens URLs.")
	}
	// Reap it without blocking the sign-in: a browser may run for hours.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return domain.Wrap(domain.KindUsage, err, "the browser command failed ("+name+")",
				"Open the printed URL yourself, or set STELLA_BROWSER to a command that opens URLs.")
		}
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
	}
	return nil
}

// commandFor splits the configured command on spaces; "%s" is replaced by
// the URL, else the URL is the last argument.
func (o *Opener) commandFor(url string) (string, []string) {
	if c := strings.TrimSpace(o.command); c != "" {
		fields := strings.Fields(c)
		replaced := false
		for i, f := range fields {
			if strings.Contains(f, "%s") {
				fields[i] = strings.ReplaceAll(f, "%s", url)
				replaced = true
			}
		}
		if !replaced {
			fields = append(fields, url)
		}
		return fields[0], fields[1:]
	}
	switch o.goos {
	case "darwin":
		return "open", []string{url}
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", url}
	}
	return "xdg-open", []string{url}
}

// Module provides the opener.
func Module() fx.Option {
	return fx.Module("browser", fx.Provide(func(s domain.Settings) ports.Browser { return New(s) }))
}
