// Package loopback is the RFC 8252 redirect listener of the browser
// sign-in: an HTTP server on 127.0.0.1 that waits for the Authority to send
// the browser back to /callback with an authorization code.
package loopback

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// CallbackPath is the only path the listener answers on.
const CallbackPath = "/callback"

// Listener waits for one authorization response.
type Listener struct {
	ln      net.Listener
	srv     *http.Server
	state   string
	results chan result
	once    sync.Once

	mu      sync.Mutex
	authURL string
}

type result struct {
	resp ports.AuthorizationResponse
	err  error
}

// Opener opens loopback listeners; it does no I/O until Listen.
type Opener struct{}

// New returns an Opener.
func New() Opener { return Opener{} }

var _ ports.RedirectListener = Opener{}

// Listen binds 127.0.0.1 on port (0: an ephemeral port chosen by the OS)
// before anything is opened, so the browser can never arrive too early.
// The listener accepts only a callback carrying expectedState.
func (Opener) Listen(ctx context.Context, port int, expectedState string) (ports.Redirect, error) {
	if port < 0 || port > 65535 {
		return nil, domain.E(domain.KindUsage, fmt.Sprintf("--callback-port %d is not a port", port), "Use a number from 1 to 65535, or leave it out for an ephemeral port.")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, domain.Wrap(domain.KindUsage, err, fmt.Sprintf("cannot listen on 127.0.0.1:%d for the sign-in callback", port),
			"Choose another --callback-port, or leave it out for an ephemeral port.")
	}
	l := &Listener{ln: ln, state: expectedState, results: make(chan result, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc(CallbackPath, l.callback)
	mux.HandleFunc("/{$}", l.start)
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// StartURL is the address to print and open: it redirects to the
// authorization request, so state, nonce and challenge never appear in
// the terminal or in logs.
func (l *Listener) StartURL() string { return "http://" + l.ln.Addr().String() + "/" }

// SetAuthorizationURL is where StartURL sends the browser.
func (l *Listener) SetAuthorizationURL(u string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.authURL = u
}

func (l *Listener) start(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	u := l.authURL
	l.mu.Unlock()
	if u == "" {
		page(w, http.StatusServiceUnavailable, "Not ready", "stella is still preparing the sign-in; reload in a moment.", false)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusFound)
}

// RedirectURI is http://127.0.0.1:<port>/callback (RFC 8252 §7.3).
func (l *Listener) RedirectURI() string {
	return "http://" + l.ln.Addr().String() + CallbackPath
}

// Port is the port bound.
func (l *Listener) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Wait returns the first valid authorization response, or fails when ctx
// ends: a deadline is a timeout (16), a cancellation an interrupt (130).
func (l *Listener) Wait(ctx context.Context) (ports.AuthorizationResponse, error) {
	select {
	case r := <-l.results:
		return r.resp, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ports.AuthorizationResponse{}, domain.E(domain.KindTimeout, "the browser did not come back with a sign-in result in time",
				"Run the sign-in again and finish it in the browser within --timeout, or use --headless.")
		}
		return ports.AuthorizationResponse{}, ctx.Err()
	}
}

// Close stops the listener.
func (l *Listener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}

func (l *Listener) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		page(w, http.StatusMethodNotAllowed, "Sign-in failed", "This address only accepts the Authority's redirect.", false)
		return
	}
	q := r.URL.Query()
	// state first: a response without the state this process sent is not
	// for us (CSRF, a stale tab, another client) and must not end the wait.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		page(w, http.StatusBadRequest, "Sign-in not accepted",
			"This sign-in response does not belong to the stella command that is waiting. Start the sign-in again from the terminal if needed.", false)
		return
	}
	resp := ports.AuthorizationResponse{Code: domain.NewSecret(q.Get("code")), Issuer: q.Get("iss"), IssuerPresent: q.Has("iss")}
	var err error
	switch e := q.Get("error"); {
	case e != "":
		err = authorizationError(domain.OAuthError{Code: domain.Printable(e, 64), Description: domain.Printable(q.Get("error_description"), 300)})
	case resp.Code.IsZero():
		err = domain.E(domain.KindProtocol, "the Authority's redirect carried neither a code nor an error", "Sign in again; if it persists, check the Authority.")
	}
	if err != nil {
		page(w, http.StatusOK, "Sign-in failed", "stella could not sign you in. Return to the terminal for details.", false)
	} else {
		page(w, http.StatusOK, "Signed in", "You are signed in to stella. You can close this tab and return to the terminal.", true)
	}
	l.once.Do(func() { l.results <- result{resp: resp, err: err} })
}

// authorizationError maps an error in the authorization response (RFC 6749
// §4.1.2.1) through the same table as token-endpoint errors, so a scope
// refused in the browser is exit 11 like one refused at the token endpoint.
func authorizationError(oe domain.OAuthError) error {
	detail := " (" + oe.String() + ")"
	switch oe.Kind() {
	case domain.KindAccessDenied:
		return domain.E(domain.KindAccessDenied, "sign-in was refused in the browser (access_denied)",
			"Run `stella auth login` again and approve the request if you meant to.")
	case domain.KindForbidden:
		return domain.E(domain.KindForbidden, "the Authority refused the requested scopes"+detail,
			"Ask only for scopes this client is allowed (--scope / STELLA_SCOPE / the profile's Scope), then sign in again.")
	case domain.KindUnauthorized:
		return domain.E(domain.KindUnauthorized, "the Authority does not let this client use the browser sign-in"+detail,
			"Use a sign-in method the Authority allows for this client (--headless, client credentials), or another client id.")
	case domain.KindServer:
		return domain.E(domain.KindServer, "the Authority failed during the browser sign-in"+detail,
			"The Authority failed; try again later.")
	case domain.KindLoginRequired:
		return domain.E(domain.KindLoginRequired, "the Authority refused the sign-in"+detail, "Sign in again with `stella auth login`.")
	case domain.KindTimeout:
		return domain.E(domain.KindTimeout, "the sign-in expired at the Authority"+detail, "Start the sign-in again and finish it in time.")
	}
	return domain.E(domain.KindProtocol, "the Authority refused the sign-in"+detail,
		"Check the client's configuration at the Authority (redirect URI, scopes), then sign in again.")
}

// page answers the browser with a small page saying how sign-in went.
// (fmt and html.EscapeString rather than html/template: the template
// packages' code and initialisation would weigh on every command's start
// for one page.)
func page(w http.ResponseWriter, status int, title, msg string, ok bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	color := "#cf222e"
	if ok {
		color = "#1a7f37"
	}
	title, msg = html.EscapeString(title), html.EscapeString(msg)
	_, _ = fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s — stella</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}
h1{color:%s}</style></head>
<body><h1 id="result">%s</h1><p>%s</p></body></html>
`, title, color, title, msg)
}

// Module provides the loopback listener.
func Module() fx.Option {
	return fx.Module("loopback", fx.Provide(func() ports.RedirectListener { return New() }))
}
