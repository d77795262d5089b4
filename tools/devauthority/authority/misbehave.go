package authority

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Misbehaviours are answers a broken or hostile server gives, for the
// hostile-input tests: POST /admin/faults {"tokenAnswer":"huge"} makes the
// next token response misbehave so; {"backendAnswer":"reset"} the next
// backend answer.
var misbehaviours = map[string]func(s *Server, w http.ResponseWriter, r *http.Request){
	// A body far beyond any client's limit (8 MiB of JSON).
	"huge": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"`))
		chunk := []byte(strings.Repeat("A", 64<<10))
		for range 128 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`","token_type":"Bearer"}`))
	},
	// Headers at once, then one byte a second: only a timeout ends it.
	"drip": func(_ *Server, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fl, _ := w.(http.Flusher)
		for _, b := range []byte(`{"access_token":"slow","token_type":"Bearer","expires_in":3600}`) {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	},
	// Half a body, then the connection is cut.
	"reset": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"access_token\":\"cut")
		_ = buf.Flush()
		_ = conn.Close()
	},
	"malformed": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":`))
	},
	// A proxy's or load balancer's error page.
	"html": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"))
	},
	"html-200": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please sign in to the corporate proxy</body></html>"))
	},
	// A redirect whose Location reads backwards from the middle (bidi).
	"redirect-bidi": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "https://example.com/\u202egnp.exe\u202c?\u2066x\u2069")
		w.WriteHeader(http.StatusFound)
	},
	// A token request answered with a redirect to another host.
	"redirect": func(_ *Server, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "https://attacker.example/token")
		w.WriteHeader(http.StatusTemporaryRedirect)
	},
}

// expiresAnswers rewrite expires_in (or token_type) of the next real token
// response.
var expiresAnswers = map[string]any{
	"expires-negative": -3600, "expires-zero": 0, "expires-absent": nil, "expires-absurd": 1e12, "expires-string": "3600",
}

// takeAnswer returns the misbehaviour queued for kind ("token" or
// "backend"), consuming it.
func (s *Server) takeAnswer(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.faults.TokenAnswer
	if kind == "backend" {
		p = &s.faults.BackendAnswer
	}
	a := *p
	*p = ""
	return a
}

// rewriter changes expires_in or token_type of a real token response.
type rewriter struct {
	http.ResponseWriter
	answer string
	status int
}

func (rw *rewriter) WriteHeader(status int) { rw.status = status }

func (rw *rewriter) Write(b []byte) (int, error) {
	var doc map[string]any
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	if err := json.Unmarshal(b, &doc); err != nil || rw.status != http.StatusOK {
		rw.ResponseWriter.WriteHeader(rw.status)
		return rw.ResponseWriter.Write(b)
	}
	if rw.answer == "token-type-mac" {
		doc["token_type"] = "mac"
	} else if v, ok := expiresAnswers[rw.answer]; ok {
		if v == nil {
			delete(doc, "expires_in")
		} else {
			doc["expires_in"] = v
		}
	}
	out, _ := json.Marshal(doc)
	rw.ResponseWriter.Header().Del("Content-Length")
	rw.ResponseWriter.WriteHeader(rw.status)
	_, err := rw.ResponseWriter.Write(out)
	return len(b), err
}
