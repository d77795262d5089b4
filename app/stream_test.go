package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Stream opens with an ephemeral stream token when the backend offers one
// (else the session's credential), renews a token that would expire within
// the stream lead first, prints one line per message, and maps a refused
// upgrade like any backend error.
func TestStream(t *testing.T) {
	const wsToken = "POST /api/v1/ws-token"
	minted := route{status: 201, body: `{"token":"ws-1"}`}
	cases := []struct {
		name      string
		remaining time.Duration // of the stored session
		lifetime  time.Duration // of its token; 0: an hour
		token     route         // the ws-token answer; zero: 404
		streamer  fakeStreamer
		noBackend bool
		ok        bool        // no error
		kind      domain.Kind // when not ok
		message   string
		hint      string
		printed   string
		auth      string // "token", "credential" or "" (not opened)
		refreshed bool
	}{
		{name: "an ephemeral token, lines printed", remaining: time.Hour, token: minted, ok: true, auth: "token",
			streamer: fakeStreamer{messages: []string{"step 1 started\n", "step 1 done"}}, printed: "step 1 started\nstep 1 done\n"},
		{name: "no ws-token route: the session's credential", remaining: time.Hour, ok: true, auth: "credential",
			streamer: fakeStreamer{messages: []string{"hello"}}, printed: "hello\n"},
		// 4 of 10 minutes left is outside the refresh lead (SPEC §5) but
		// inside the stream's 5 minutes.
		{name: "renewed first inside the stream lead", remaining: 4 * time.Minute, lifetime: 10 * time.Minute, token: minted, ok: true, auth: "token", refreshed: true,
			streamer: fakeStreamer{messages: []string{"x"}}, printed: "x\n"},
		{name: "a token answer without a token", remaining: time.Hour, token: route{status: 200, body: `{}`}, kind: domain.KindProtocol,
			message: "the backend's stream token answer has no token"},
		{name: "the ws-token call refused", remaining: time.Hour, token: route{status: 500, body: "boom"}, kind: domain.KindServer},
		{name: "the upgrade refused for a scope", remaining: time.Hour, token: minted, auth: "token",
			streamer: fakeStreamer{refuse: &ports.StreamRefused{Status: 403, Header: http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="packs.stream"`}}}},
			kind:     domain.KindForbidden, message: "missing scope packs.stream", hint: "--scope 'packs.read packs.stream'"},
		{name: "the stream breaks", remaining: time.Hour, token: minted, auth: "token",
			streamer: fakeStreamer{messages: []string{"a"}, readErr: domain.E(domain.KindUnreachable, "the stream was reset", "")},
			kind:     domain.KindUnreachable, printed: "a\n"},
		{name: "no backend", remaining: time.Hour, noBackend: true, kind: domain.KindUsage, message: "no backend URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			if tc.noBackend {
				s.BackendURL = ""
			}
			f := newTM(t, s)
			now := f.clock.Now()
			lifetime := tc.lifetime
			if lifetime == 0 {
				lifetime = time.Hour
			}
			f.store.sessions[s.SessionKey()] = userSession(s, now.Add(tc.remaining-lifetime), now.Add(tc.remaining))
			routes := map[string]route{}
			if tc.token.status != 0 {
				routes[wsToken] = tc.token
			}
			backend := &recordingBackend{routes: routes}
			streamer := tc.streamer
			var out bytes.Buffer
			err := NewStream(s, f.tm, backend, &streamer).Do(context.Background(), "/api/v1/packs/runs/r1/logs", &out)

			if got := f.auth.refresh.Load() == 1; got != tc.refreshed {
				t.Fatalf("refreshed = %v, want %v", got, tc.refreshed)
			}
			if out.String() != tc.printed {
				t.Fatalf("printed %q, want %q", out.String(), tc.printed)
			}
			switch tc.auth {
			case "":
				if len(streamer.opened) != 0 {
					t.Fatal("the stream was opened")
				}
			case "token":
				if len(streamer.opened) != 1 || streamer.opened[0].Token.Reveal() != "ws-1" || !streamer.opened[0].Credential.Access.Value.IsZero() {
					t.Fatalf("opened with %+v", streamer.opened)
				}
			case "credential":
				want := f.store.sessions[s.SessionKey()].Access.Value
				if len(streamer.opened) != 1 || !streamer.opened[0].Token.IsZero() || !streamer.opened[0].Credential.Access.Value.Equal(want) {
					t.Fatalf("opened with %+v", streamer.opened)
				}
			}
			if tc.auth != "" && tc.streamer.refuse == nil && !streamer.closed {
				t.Fatal("the stream was left open")
			}
			if !tc.ok {
				if err == nil || domain.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.message) || !strings.Contains(s.HintFor(err), tc.hint) {
					t.Fatalf("err = %v (%v), hint %q", err, domain.KindOf(err), s.HintFor(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Ctrl-C ends a stream that is waiting for its next message: the context's
// error, nothing more printed.
func TestStreamEndsWithTheContext(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	now := f.clock.Now()
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	streamer := &fakeStreamer{messages: []string{"a"}}
	w := &cancelAfterWrite{cancel: cancel}
	err := NewStream(s, f.tm, &recordingBackend{}, streamer).Do(ctx, "/logs", w)
	if !errors.Is(err, context.Canceled) || w.String() != "a\n" || !streamer.closed {
		t.Fatalf("err %v, printed %q, closed %v", err, w.String(), streamer.closed)
	}
}

// cancelAfterWrite cancels the context once something was printed.
type cancelAfterWrite struct {
	bytes.Buffer
	cancel func()
}

func (c *cancelAfterWrite) Write(p []byte) (int, error) {
	defer c.cancel()
	return c.Buffer.Write(p)
}
