package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// streamLead is how long a token must stay valid before a stream opens:
// streams outlive requests, and the token is checked at the upgrade only.
const streamLead = 5 * time.Minute

// Stream prints a backend WebSocket stream line by line (SPEC §3.6).
type Stream struct {
	settings domain.Settings
	tokens   *TokenManager
	backend  ports.Backend
	streamer ports.Streamer
}

// NewStream builds the use case; it does no I/O.
func NewStream(s domain.Settings, tokens *TokenManager, backend ports.Backend, streamer ports.Streamer) *Stream {
	return &Stream{settings: s, tokens: tokens, backend: backend, streamer: streamer}
}

// Do opens path and copies each message, as one line, to out until the
// server closes the stream (nil) or ctx ends.
func (u *Stream) Do(ctx context.Context, path string, out io.Writer) error {
	if err := u.settings.RequireBackend(); err != nil {
		return err
	}
	// Refresh first when the token would expire within 5 minutes.
	cred, err := u.tokens.CredentialFor(ctx, streamLead)
	if err != nil {
		return err
	}
	auth, err := u.streamAuth(ctx, cred)
	if err != nil {
		return err
	}
	st, err := u.streamer.Open(ctx, path, auth)
	var refused *ports.StreamRefused
	if errors.As(err, &refused) {
		var held domain.Scopes
		if cur, err := u.tokens.Current(ctx); err == nil && cur != nil {
			held = cur.Access.Scopes
		}
		return backendError(u.settings, held, http.MethodGet, path, refused.Status, refused.Header, refused.Body)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		msg, err := st.Read(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(out, strings.TrimRight(string(msg), "\n")); err != nil {
			return err
		}
	}
}

// streamAuth prefers an ephemeral, single-use stream token from
// POST /api/v1/ws-token, so the session token is not handed to the stream;
// a backend without that route gets the session's credentials.
func (u *Stream) streamAuth(ctx context.Context, cred domain.Credential) (ports.StreamAuth, error) {
	resp, err := u.backend.Do(ctx, ports.BackendRequest{Method: http.MethodPost, Path: "/api/v1/ws-token",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: strings.NewReader(`{}`)})
	if err != nil {
		return ports.StreamAuth{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	switch {
	case resp.Status == http.StatusOK || resp.Status == http.StatusCreated:
		var t struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(body, &t) != nil || t.Token == "" {
			return ports.StreamAuth{}, domain.E(domain.KindProtocol, "the backend's stream token answer has no token", "Check the backend.")
		}
		return ports.StreamAuth{Token: domain.NewSecret(t.Token)}, nil
	case resp.Status == http.StatusNotFound:
		return ports.StreamAuth{Credential: cred}, nil
	}
	return ports.StreamAuth{}, BackendError(u.settings, http.MethodPost, "/api/v1/ws-token", resp.Status, resp.Header, body)
}
