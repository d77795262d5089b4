package authority

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

func decodeSegment(seg string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(seg) }

// authorize checks an RFC 6750 bearer token on a protected route. Failures
// carry WWW-Authenticate; on backend routes also an RFC 9457 problem.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string, backend bool) (map[string]any, bool) {
	deny := func(status int, code, desc string, extra map[string]any) (map[string]any, bool) {
		chal := `Bearer realm="stellaops"`
		if code != "" {
			chal += fmt.Sprintf(`, error=%q, error_description=%q`, code, desc)
		}
		if code == "insufficient_scope" {
			chal += fmt.Sprintf(`, scope=%q`, scope)
		}
		w.Header().Set("WWW-Authenticate", chal)
		if backend {
			title := map[int]string{401: "Unauthorized", 403: "Forbidden"}[status]
			problem(w, status, title, desc, extra)
		} else {
			w.WriteHeader(status)
		}
		return nil, false
	}
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return deny(http.StatusUnauthorized, "", "a bearer token is required", nil)
	}
	s.remember(token)
	if backend && s.takeBackend401() {
		return deny(http.StatusUnauthorized, "invalid_token", "injected fault: token rejected once", nil)
	}
	now := time.Now()
	claims, err := s.verifyAccess(token, now)
	if err != nil {
		return deny(http.StatusUnauthorized, "invalid_token", "the access token is invalid: "+err.Error(), nil)
	}
	if !s.tokens.accessValid(fmt.Sprint(claims["jti"]), now) {
		return deny(http.StatusUnauthorized, "invalid_token", "the access token is revoked or unknown", nil)
	}
	if scope != "" {
		granted := strings.Fields(fmt.Sprint(claims["scope"]))
		if !slices.Contains(granted, scope) {
			return deny(http.StatusForbidden, "insufficient_scope", "this call needs the scope "+scope,
				map[string]any{"requiredScope": scope})
		}
	}
	return claims, true
}

// resource wraps a backend route: request id, injected faults, token check.
func (s *Server) resource(scope string, h func(http.ResponseWriter, *http.Request, map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqSeq++
		id := fmt.Sprintf("req-%06d", s.reqSeq)
		s.mu.Unlock()
		w.Header().Set("X-Request-Id", id)
		if st, ok := s.takeBackendFault(); ok {
			problem(w, st, "Backend failure", "injected fault", nil)
			return
		}
		claims, ok := s.authorize(w, r, scope, true)
		if !ok {
			return
		}
		h(w, r, claims)
	}
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, c map[string]any) {
	out := map[string]any{"subject": c["sub"], "clientId": c["client_id"], "scope": c["scope"], "tenant": c["tenant"]}
	if n, ok := c["name"]; ok {
		out["name"] = n
	}
	writeJSON(w, http.StatusOK, out)
}

var jobs = []map[string]any{
	{"id": "job-1001", "pack": "nightly-scan", "status": "succeeded"},
	{"id": "job-1002", "pack": "sbom-export", "status": "running"},
	{"id": "job-1003", "pack": "policy-check", "status": "queued"},
}

func (s *Server) listJobs(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request, c map[string]any) {
	var body struct {
		Pack string `json:"pack"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm))
	if err := dec.Decode(&body); err != nil || body.Pack == "" {
		problem(w, http.StatusBadRequest, "Bad Request", `the body must be JSON like {"pack":"name"}`, nil)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": "job-" + randomString(4), "pack": body.Pack, "status": "queued",
		"requestedBy": c["sub"]})
}
