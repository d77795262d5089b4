// Package loopback is the RFC 8252 redirect listener of the browser
// sign-in: an HTTP server on 127.0.0.1 that waits for the Authority to send
// the browser back to /callback with an authorization code.
package loopback

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
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
	ln        net.Listener
	srv       *http.Server
	state     string
	startPath string // /start/<random>: the one way to the authorization request
	results   chan result
	once      sync.Once

	mu      sync.Mutex
	authURL string
	started bool // the start path was used: it answers once

	finishOnce sync.Once
	finished   chan struct{} // closed by Finish or Close
	outcome    error
}

// pageWait bounds how long the browser's callback is held open while the
// terminal exchanges the code and checks the ID token.
const pageWait = 60 * time.Second

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
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		_ = ln.Close()
		return nil, domain.Wrap(domain.KindUnexpected, err, "no randomness for the sign-in start address", "")
	}
	l := &Listener{ln: ln, state: expectedState, results: make(chan result, 1), finished: make(chan struct{}),
		startPath: "/start/" + base64.RawURLEncoding.EncodeToString(nonce[:])}
	mux := http.NewServeMux()
	mux.HandleFunc(CallbackPath, l.callback)
	mux.HandleFunc(l.startPath, l.start)
	// Only requests addressed to this listener (DNS rebinding: a page on
	// evil.example resolving to 127.0.0.1 sends Host: evil.example).
	l.srv = &http.Server{Handler: l.ownHostOnly(mux), ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes: 16 << 10, IdleTimeout: 30 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// StartURL is the address to print and open: it redirects to the
// authorization request, so state, nonce and challenge never appear in
// the terminal or in logs. Its path is unguessable and answers once:
// another local user who can reach the port cannot obtain the request
// (state, challenge, nonce, dpop_jkt) to finish or race the sign-in with
// their own account (RFC 8252 §8.3, SPEC §3.7).
func (l *Listener) StartURL() string { return "http://" + l.ln.Addr().String() + l.startPath }

// ownHostOnly answers only requests whose Host is this listener's own
// address: 127.0.0.1:PORT, or localhost:PORT.
func (l *Listener) ownHostOnly(next http.Handler) http.Handler {
	port := strconv.Itoa(l.Port())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "127.0.0.1:"+port && r.Host != "localhost:"+port {
			page(w, http.StatusMisdirectedRequest, "Wrong address", "This stella sign-in listener answers only at 127.0.0.1:"+port+".", false)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SetAuthorizationURL is where StartURL sends the browser.
func (l *Listener) SetAuthorizationURL(u string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.authURL = u
}

func (l *Listener) start(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	u, used := l.authURL, l.started
	if u != "" {
		l.started = true
	}
	l.mu.Unlock()
	switch {
	case u == "":
		page(w, http.StatusServiceUnavailable, "Not ready", "stella is still preparing the sign-in; reload in a moment.", false)
		return
	case used:
		page(w, http.StatusNotFound, "Already used", "This sign-in address has been opened once already. Start the sign-in again from the terminal if that was not you.", false)
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

// Finish tells the waiting browser how the sign-in ended, once the
// terminal has exchanged the code and checked the ID token: nil is
// success, else the failure in plain words.
func (l *Listener) Finish(err error) {
	l.finishOnce.Do(func() {
		l.outcome = err
		close(l.finished)
	})
}

// Close stops the listener.
func (l *Listener) Close() error {
	l.Finish(domain.E(domain.KindUnexpected, "stella stopped before the sign-in finished", ""))
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
		err = authorizationError(domain.OAuthError{Code: domain.Printable(e, 64), Description: domain.Untrusted(q.Get("error_description"))})
	case resp.Code.IsZero():
		err = domain.E(domain.KindProtocol, "the Authority's redirect carried neither a code nor an error", "Sign in again; if it persists, check the Authority.")
	}
	first := false
	l.once.Do(func() { first = true; l.results <- result{resp: resp, err: err} })
	if err != nil {
		failed(w, err)
		return
	}
	if !first {
		page(w, http.StatusOK, "Already answered", "stella already has a sign-in response. Return to the terminal.", false)
		return
	}
	// Answer only once the terminal knows: "signed in" must never be said
	// of a sign-in the terminal then refuses (an ID token that fails its
	// checks, a refused exchange).
	t := time.NewTimer(pageWait)
	defer t.Stop()
	select {
	case <-l.finished:
	case <-t.C:
		page(w, http.StatusOK, "Still working", "stella is still finishing the sign-in. Return to the terminal to see how it ends.", false)
		return
	case <-r.Context().Done():
		return
	}
	if l.outcome != nil {
		failed(w, l.outcome)
		return
	}
	page(w, http.StatusOK, "Signed in", "You are signed in to stella. You can close this tab and return to the terminal.", true)
}

// failed is the page for a sign-in that did not work, saying why in the
// terminal's words (sanitised and cut: they may quote the Authority).
func failed(w http.ResponseWriter, err error) {
	page(w, http.StatusOK, "Sign-in failed", "stella could not sign you in: "+domain.Printable(err.Error(), 300)+
		". Return to the terminal for what to do next.", false)
}

// authorizationError maps an error in the authorization response (RFC 6749
// §4.1.2.1) through the same table as token-endpoint errors, so a scope
// refused in the browser is exit 11 like one refused at the token endpoint.
func authorizationError(oe domain.OAuthError) error {
	detail := " (" + oe.String() + ")"
	switch oe.Kind() {
	case domain.KindAccessDenied:
		return domain.ESignIn(domain.KindAccessDenied, "sign-in was refused in the browser (access_denied)",
			domain.SignInHint{Before: "Run ", After: " again and approve the request if you meant to."})
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
		return domain.ESignIn(domain.KindLoginRequired, "the Authority refused the sign-in"+detail, domain.SignInHint{Before: "Sign in again with ", After: "."})
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
