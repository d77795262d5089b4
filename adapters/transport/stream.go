package transport

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/coder/websocket"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxMessage bounds one stream message.
const maxMessage = 1 << 20

// Streams opens WebSocket streams to the backend (github.com/coder/websocket)
// over the base transport: same proxies, CAs and client certificate.
type Streams struct {
	settings  domain.Settings
	base      ports.HTTPBase
	creds     ports.CredentialHeaders
	userAgent string
}

// NewStreams returns the streamer; it does no I/O.
func NewStreams(s domain.Settings, base ports.HTTPBase, creds ports.CredentialHeaders, build domain.BuildInfo) *Streams {
	return &Streams{settings: s, base: base, creds: creds, userAgent: build.UserAgent()}
}

var _ ports.Streamer = (*Streams)(nil)

// Open dials path relative to BackendUrl, ws:// or wss:// as the backend's
// scheme says. A refused upgrade is a *ports.StreamRefused.
func (s *Streams) Open(ctx context.Context, path string, auth ports.StreamAuth) (ports.Stream, error) {
	base, err := domain.ValidateServerURL("backend URL", s.settings.BackendURL)
	if err != nil {
		return nil, err
	}
	u, err := join(base, path, "Give a path such as /api/v1/jobs/job-1001/events.")
	if err != nil {
		return nil, err
	}
	u.Scheme = map[string]string{"https": "wss", "http": "ws"}[base.Scheme]
	cred := auth.Credential
	if !auth.Token.IsZero() {
		cred = domain.Credential{Access: domain.Token{Value: auth.Token, Type: domain.TokenTypeBearer}}
	}
	// The handshake is an HTTP GET of the http(s) form of the URL: that
	// is what a DPoP proof is made for.
	target := *base
	target.Path, target.RawQuery = u.Path, u.RawQuery
	creds, err := s.creds.Headers(cred, http.MethodGet, target.String())
	if err != nil {
		return nil, err
	}
	h := http.Header{"User-Agent": {s.userAgent}}
	for _, c := range creds {
		h.Set(c.Name, c.Value.Reveal())
	}
	conn, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: s.base, Timeout: s.settings.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		HTTPHeader: h,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, maxMessage))
			}
			return nil, &ports.StreamRefused{Status: resp.StatusCode, Header: resp.Header, Body: body}
		}
		return nil, domain.ClassifyNetError(err, "the backend", u.Host)
	}
	conn.SetReadLimit(maxMessage)
	return &stream{conn: conn}, nil
}

type stream struct{ conn *websocket.Conn }

// Read waits for the next message. When ctx ends (Ctrl-C), the stream is
// closed cleanly, with a close frame, rather than dropped: coder/websocket
// would otherwise tear the connection down the moment a read's context ends.
func (s *stream) Read(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.Close(websocket.StatusNormalClosure, "stella was interrupted") })
	defer stop()
	_, msg, err := s.conn.Read(context.WithoutCancel(ctx))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
		return nil, io.EOF
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		return nil, domain.Wrap(domain.KindUnreachable, err, "the stream broke", "Run the command again to reconnect.")
	}
	return msg, err
}

func (s *stream) Close() error { return s.conn.Close(websocket.StatusNormalClosure, "stella is done") }
