package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Bounds on what a backend may send: a success body goes to stdout and may
// be large; an error body is only parsed for problem details.
const (
	maxSuccessBody = 256 << 20
	maxErrorBody   = 1 << 20
)

// APIInput is one `stella api` call.
type APIInput struct {
	Method string
	Path   string
	Header http.Header
	Body   io.Reader
	Out    io.Writer // the response body on success
}

// APIOutput is what came back.
type APIOutput struct {
	Status int
	Header http.Header
}

// API calls a backend through the authenticated transport.
type API struct {
	settings domain.Settings
	backend  ports.Backend
	tokens   *TokenManager
}

// NewAPI builds the use case; it does no I/O.
func NewAPI(s domain.Settings, backend ports.Backend, tokens *TokenManager) *API {
	return &API{settings: s, backend: backend, tokens: tokens}
}

// Do performs the call. A non-2xx answer becomes an error whose kind
// decides the exit code and whose message carries the problem details.
func (u *API) Do(ctx context.Context, in APIInput) (APIOutput, error) {
	if err := u.settings.RequireBackend(); err != nil {
		return APIOutput{}, err
	}
	if err := u.settings.RequireAuthority(); err != nil {
		return APIOutput{}, err
	}
	method := strings.ToUpper(in.Method)
	if method == "" {
		method = http.MethodGet
	}
	if !validMethod(method) {
		return APIOutput{}, domain.E(domain.KindUsage, fmt.Sprintf("%q is not an HTTP method", in.Method),
			"Use -X GET, POST, PUT, PATCH or DELETE.")
	}
	resp, err := u.backend.Do(ctx, ports.BackendRequest{Method: method, Path: in.Path, Header: in.Header, Body: in.Body})
	if err != nil {
		return APIOutput{}, err
	}
	defer resp.Body.Close()
	out := APIOutput{Status: resp.Status, Header: resp.Header}
	if resp.Status >= 200 && resp.Status < 300 {
		n, err := io.Copy(in.Out, io.LimitReader(resp.Body, maxSuccessBody+1))
		if err != nil {
			return out, domain.Wrap(domain.KindUnreachable, err, "the backend's answer was cut off", "Try again.")
		}
		if n > maxSuccessBody {
			return out, domain.E(domain.KindProtocol, "the backend's answer is larger than 256 MiB; output stopped there",
				"Ask for less (paging or filters).")
		}
		return out, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var held domain.Scopes
	if resp.Status == http.StatusForbidden {
		// The hint proposes what the session holds plus what the call
		// needs; the session is already loaded, so this costs nothing.
		if cur, err := u.tokens.Current(ctx); err == nil && cur != nil {
			held = cur.Access.Scopes
		}
	}
	return out, backendError(u.settings, held, method, in.Path, resp.Status, resp.Header, body)
}

func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// BackendError turns a backend's non-2xx answer into a kinded error with
// the problem details and the next step (SPEC §3.6, §4). Every backend
// command uses it, so the guidance is the same everywhere.
func BackendError(s domain.Settings, method, path string, status int, h http.Header, body []byte) error {
	return backendError(s, nil, method, path, status, h, body)
}

// backendError is BackendError knowing the scopes the session holds (nil:
// unknown, the configured ones are assumed).
func backendError(s domain.Settings, held domain.Scopes, method, path string, status int, h http.Header, body []byte) error {
	p, isProblem := domain.ParseProblem(body)
	summary := p.Summary()
	if !isProblem || summary == "" {
		summary = http.StatusText(status)
	}
	what := fmt.Sprintf("%s %s: %d %s", method, domain.RedactURL(path), status, summary)
	if id := requestID(h); id != "" {
		what += " (request id " + id + ")"
	}
	challenges := domain.ParseWWWAuthenticate(h.Values("WWW-Authenticate"))
	switch {
	case status == http.StatusUnauthorized:
		return domain.E(domain.KindUnauthorized, what+" — the backend refused the token even after a refresh",
			"Sign in again with `"+s.LoginCommand()+" --force`; if it persists, the token may be for another audience.")
	case status == http.StatusForbidden:
		scope := p.RequiredScope
		for _, c := range challenges {
			if v := c.Param("scope"); v != "" && scope == "" {
				scope = domain.Untrusted(v) // the backend's words, like the document's
			}
		}
		hint := "Your token lacks the permission for this call; ask an administrator for the right scope or client."
		if need, err := domain.ParseUntrustedScopes(scope); err == nil && len(need) > 0 {
			shown := domain.Printable(need.String(), 200)
			if !strings.Contains(what, shown) { // the server's detail may already name it
				what += " — missing scope " + shown
			}
			hint = missingScopeHint(s, held, need)
		}
		return domain.E(domain.KindForbidden, what, hint)
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return domain.E(domain.KindConflict, what, "The resource changed on the server; fetch its current state and try again.")
	case status >= 500:
		return domain.E(domain.KindServer, what, "The backend failed; try again later, and quote the request id if you report it.")
	case status == http.StatusNotFound:
		return domain.E(domain.KindUsage, what, "Check the path; it is relative to the backend URL "+s.BackendURL+".")
	case status >= 400:
		return domain.E(domain.KindUsage, what, "The backend rejected the request; check the method, path and body.")
	case status >= 300 && status < 400:
		// Following would hand the token (and its proof) to wherever the
		// redirect points; say where, and let the user decide.
		loc := domain.Printable(h.Get("Location"), 300)
		if loc == "" {
			loc = "nowhere"
		}
		return domain.E(domain.KindProtocol, what+" — redirected to "+loc,
			"stella never follows redirects, so the token cannot be sent elsewhere; if you trust the new location, call its path or change the backend URL.")
	}
	return domain.E(domain.KindProtocol, what, "The backend answered with an unexpected status.")
}

// missingScopeHint proposes a sign-in asking for what the session holds
// plus what the call needs, so following it never drops a scope (a refresh
// token, userinfo, or a scope an earlier hint added).
func missingScopeHint(s domain.Settings, held, need domain.Scopes) string {
	if len(held) == 0 {
		held = s.WantedScopes(!s.HasClientSecret())
	}
	all := held.Union(need)
	return fmt.Sprintf("Sign in again asking for it too: `%s --force --scope %s`; to keep it, add %s to AddScope in the profile or STELLA_ADD_SCOPE.",
		s.LoginCommand(), domain.ShellQuote(all.String()), domain.ShellQuote(need.String()))
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "Traceparent"} {
		if v := h.Get(k); v != "" {
			return domain.Printable(v, 100)
		}
	}
	return ""
}
