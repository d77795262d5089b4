package transport

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"context"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxRequestBody bounds what `stella api --data` sends; the body is held
// in memory so that a 401 retry can send it again.
const maxRequestBody = 32 << 20

// Backend performs backend calls through the authenticated transport.
type Backend struct {
	settings  domain.Settings
	auth      *Authenticated
	userAgent string

	once sync.Once
	base *url.URL
	err  error
}

// NewBackend returns the backend client; it does no I/O.
func NewBackend(s domain.Settings, auth *Authenticated, build domain.BuildInfo) *Backend {
	return &Backend{settings: s, auth: auth, userAgent: build.UserAgent()}
}

var _ ports.Backend = (*Backend)(nil)

// Do sends one request relative to BackendUrl.
func (b *Backend) Do(ctx context.Context, r ports.BackendRequest) (ports.BackendResponse, error) {
	target, err := b.resolve(r.Path)
	if err != nil {
		return ports.BackendResponse{}, err
	}
	var body io.Reader
	if r.Body != nil {
		buf, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			return ports.BackendResponse{}, domain.Wrap(domain.KindUsage, err, "cannot read the request body", "Check the --data argument.")
		}
		if len(buf) > maxRequestBody {
			return ports.BackendResponse{}, domain.E(domain.KindUsage, "the request body is larger than 32 MiB", "Send less data per call.")
		}
		body = bytes.NewReader(buf)
	}
	ctx, cancel := context.WithTimeout(ctx, b.settings.RequestTimeout)
	// The URL is already parsed: hand it over rather than print and re-parse.
	req, err := http.NewRequestWithContext(ctx, r.Method, "/", body)
	if err == nil {
		req.URL, req.Host = target, target.Host
	}
	if err != nil {
		cancel()
		return ports.BackendResponse{}, domain.Wrap(domain.KindUsage, err, "cannot build the request", "Check the method and path.")
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "DPoP") {
			cancel()
			return ports.BackendResponse{}, domain.E(domain.KindUsage, "the "+k+" header is set by stella",
				"Drop -H '"+k+": …'; stella attaches the session's credentials itself.")
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	// Set here, on a request we own, so the base transport need not copy it.
	req.Header.Set("User-Agent", b.userAgent)
	// The transport is called directly, not through an http.Client: no
	// redirect is followed (a token must not travel to where a redirect
	// points; the 3xx is returned as curl without -L would), and the one
	// deadline covers the whole exchange, body included.
	resp, err := b.auth.roundTripWith(req, r.Credential)
	if err != nil {
		cancel()
		return ports.BackendResponse{}, domain.ClassifyNetError(unwrapURLError(err), "the backend", target.Host)
	}
	return ports.BackendResponse{Status: resp.StatusCode, Header: resp.Header, Body: cancelOnClose{resp.Body, cancel}}, nil
}

// cancelOnClose ends the request's deadline when the caller is done with
// the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func (b *Backend) init() {
	b.once.Do(func() {
		b.base, b.err = domain.ValidateServerURL("backend URL", b.settings.BackendURL)
	})
}

// resolve joins a path to BackendUrl.
func (b *Backend) resolve(path string) (*url.URL, error) {
	b.init()
	if b.err != nil {
		return nil, b.err
	}
	return join(b.base, path, "Give a path relative to the backend URL, such as /api/v1/jobs; use --backend to change the backend.")
}

// join puts path (and its query) under base's path. Absolute URLs and
// scheme-relative ones (//host/…) are refused, not resolved: a session's
// token goes only to the configured backend, and a path that names a host
// is a mistake to say, not to guess at. hint is the refusal's.
func join(base *url.URL, path, hint string) (*url.URL, error) {
	if strings.Contains(path, "://") || strings.HasPrefix(path, "//") {
		return nil, domain.E(domain.KindUsage, "\""+domain.RedactURL(path)+"\" is not a path", hint)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	rel, err := url.Parse(path)
	if err != nil {
		// Not wrapped: url.Parse's message repeats the whole path, query
		// and all.
		return nil, domain.E(domain.KindUsage, "\""+domain.RedactURL(path)+"\" is not a valid path: "+badEscape(path), "Check the path's escaping.")
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + rel.Path
	u.RawPath = ""
	u.RawQuery = rel.RawQuery
	return &u, nil
}

// unwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the URL and method, when the cause already has a kind.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// badEscape says what url.Parse refuses in a path without repeating it: a
// percent sign not followed by two hex digits, or a control character.
func badEscape(path string) string {
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '%' && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])):
			return "a % not followed by two hex digits (write a literal % as %25)"
		case c < 0x20 || c == 0x7f:
			return "a control character"
		}
	}
	return "it does not parse as a URL path"
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
