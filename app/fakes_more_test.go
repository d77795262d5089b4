package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Fakes for the use cases beyond the TokenManager (doctor, whoami, pack
// approval, streams), beside the shared ones in fakes_test.go.

// route is one scripted backend answer.
type route struct {
	status int
	header http.Header
	body   string
	err    error
}

// recordingBackend answers by "METHOD path" and records every request
// with its body read.
type recordingBackend struct {
	mu     sync.Mutex
	routes map[string]route
	seen   []seenRequest
}

type seenRequest struct {
	ports.BackendRequest
	body string
}

func (b *recordingBackend) Do(_ context.Context, req ports.BackendRequest) (ports.BackendResponse, error) {
	var body string
	if req.Body != nil {
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			return ports.BackendResponse{}, err
		}
		body = string(raw)
	}
	b.mu.Lock()
	b.seen = append(b.seen, seenRequest{req, body})
	r, ok := b.routes[req.Method+" "+req.Path]
	b.mu.Unlock()
	if !ok {
		r = route{status: http.StatusNotFound}
	}
	if r.err != nil {
		return ports.BackendResponse{}, r.err
	}
	h := r.header
	if h == nil {
		h = http.Header{}
	}
	return ports.BackendResponse{Status: r.status, Header: h, Body: io.NopCloser(strings.NewReader(r.body))}, nil
}

// fakeStreamer opens a stream of scripted messages, or refuses.
type fakeStreamer struct {
	messages []string
	readErr  error // after the messages; nil: io.EOF
	refuse   *ports.StreamRefused
	opened   []ports.StreamAuth
	closed   bool
}

func (s *fakeStreamer) Open(_ context.Context, _ string, auth ports.StreamAuth) (ports.Stream, error) {
	s.opened = append(s.opened, auth)
	if s.refuse != nil {
		return nil, s.refuse
	}
	return &fakeStream{s: s}, nil
}

type fakeStream struct {
	s *fakeStreamer
	i int
}

func (f *fakeStream) Read(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.i < len(f.s.messages) {
		f.i++
		return []byte(f.s.messages[f.i-1]), nil
	}
	if f.s.readErr != nil {
		return nil, f.s.readErr
	}
	return nil, io.EOF
}

func (f *fakeStream) Close() error { f.s.closed = true; return nil }

// scriptedAuthority is a fakeAuthority whose discovery and userinfo
// answers are set by the test.
type scriptedAuthority struct {
	*fakeAuthority
	discovery    ports.Discovery
	discoverErr  error
	userinfo     map[string]any
	userinfoErr  error
	userinfoSeen []domain.Credential
}

func (a *scriptedAuthority) Discover(context.Context) (ports.Discovery, error) {
	return a.discovery, a.discoverErr
}

func (a *scriptedAuthority) UserInfo(_ context.Context, c domain.Credential) (map[string]any, error) {
	a.userinfoSeen = append(a.userinfoSeen, c)
	if a.userinfoErr != nil {
		return nil, a.userinfoErr
	}
	if a.userinfo == nil {
		return nil, errors.New("no userinfo scripted")
	}
	return a.userinfo, nil
}

// scriptedInspector is storage whose every check answers as scripted.
type scriptedInspector struct {
	keychainUsed bool
	keychainErr  error
	dir          string
	dirErr       error
	files        []ports.SessionFile
	filesErr     error
}

func (s scriptedInspector) Keychain(context.Context) (bool, error) {
	return s.keychainUsed, s.keychainErr
}
func (s scriptedInspector) CacheDir() (string, error) { return s.dir, s.dirErr }
func (s scriptedInspector) Sessions(context.Context) ([]ports.SessionFile, error) {
	return s.files, s.filesErr
}
