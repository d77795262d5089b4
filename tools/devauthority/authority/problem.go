package authority

import (
	"encoding/json"
	"net/http"
)

// problem writes an RFC 9457 problem document.
func problem(w http.ResponseWriter, status int, title, detail string, extra map[string]any) {
	doc := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	for k, v := range extra {
		doc[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

// oauthError writes an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// hostilePayload is what a hostile server hides in text (-hostile-text):
// an OSC window-title write, an OSC 52 clipboard write, a CSI screen
// clear, the 8-bit CSI, a right-to-left override and an isolate.
const hostilePayload = "\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009b31m\u202eexe.txt\u2066"

// hostile appends the payload to v under -hostile-text.
func (s *Server) hostile(v string) string {
	if !s.cfg.HostileText {
		return v
	}
	return v + hostilePayload
}

func (s *Server) hostileList(v []string) []string {
	if !s.cfg.HostileText {
		return v
	}
	return append(v, hostilePayload)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
