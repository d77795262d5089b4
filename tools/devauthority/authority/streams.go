package authority

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Stream tokens (SPEC §3.6): short-lived, single-use, bound to the subject
// that asked, so the long-lived session token never reaches the stream.

const wsTokenTTL = 30 * time.Second

type wsToken struct {
	subject string
	expires time.Time
	used    bool
}

type wsTokens struct {
	mu sync.Mutex
	m  map[string]*wsToken
}

func newWSTokens() *wsTokens { return &wsTokens{m: map[string]*wsToken{}} }

func (s *Server) wsToken(w http.ResponseWriter, _ *http.Request, c map[string]any) {
	tok := randomString(24)
	s.ws.mu.Lock()
	s.ws.m[tok] = &wsToken{subject: fmt.Sprint(c["sub"]), expires: s.cfg.Now().Add(wsTokenTTL)}
	s.ws.mu.Unlock()
	s.tokens.addOther(tok)
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires_in": int(wsTokenTTL.Seconds())})
}

// jobEvents streams a few events of a job over a WebSocket, for a valid,
// unused stream token.
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", "req-ws-"+randomString(4))
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.ws.mu.Lock()
	t, ok := s.ws.m[tok]
	valid := ok && strings.EqualFold(scheme, "Bearer") && !t.used && s.cfg.Now().Before(t.expires)
	if ok {
		t.used = true
	}
	s.ws.mu.Unlock()
	if valid && s.takeStreamForbidden() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stellaops", error="insufficient_scope", scope="packs.stream"`)
		problem(w, http.StatusForbidden, "Forbidden", "this stream needs the scope packs.stream", map[string]any{"requiredScope": "packs.stream"})
		return
	}
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stellaops", error="invalid_token", error_description="a fresh stream token is required"`)
		problem(w, http.StatusUnauthorized, "Unauthorized", "a fresh, unused stream token from POST /api/v1/ws-token is required", nil)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	if r.URL.Query().Get("follow") != "" {
		s.followEvents(r.Context(), conn, r.PathValue("id"), t.subject)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	for i, ev := range []string{"queued", "running", "succeeded"} {
		b, _ := json.Marshal(map[string]any{"job": r.PathValue("id"), "seq": i + 1, "event": ev, "subject": t.subject})
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			return
		}
	}
	_ = conn.Close(websocket.StatusNormalClosure, "done")
}

// followEvents sends a heartbeat event every 100 ms until the client goes
// away, and records how it went: the close code of a clean close (1000
// when stella is interrupted), or 1006 when the connection just dropped.
func (s *Server) followEvents(ctx context.Context, conn *websocket.Conn, job, subject string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s.stats.streamClose(0) // "0": followed streams opened
	go func() {
		defer cancel()
		_, _, err := conn.Read(ctx)
		code := int(websocket.CloseStatus(err))
		if code < 0 {
			code = int(websocket.StatusAbnormalClosure)
		}
		s.stats.streamClose(code)
	}()
	for seq := 1; ; seq++ {
		b, _ := json.Marshal(map[string]any{"job": job, "seq": seq, "event": "heartbeat", "subject": subject})
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
