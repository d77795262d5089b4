package authority

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

func decodeSegment(seg string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(seg) }

// authorize checks an RFC 6750 bearer token on a protected route. Failures
// carry WWW-Authenticate; on backend routes also an RFC 9457 problem.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string, backend bool) (map[string]any, bool) {
	now := s.cfg.Now()
	if s.cfg.RequireDPoPNonce {
		w.Header().Set("DPoP-Nonce", s.dpop.currentNonce(now, s.cfg.DPoPNonceRotate))
	}
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	dpopScheme := strings.EqualFold(scheme, "DPoP")
	deny := func(status int, code, desc string, extra map[string]any) (map[string]any, bool) {
		chal := `Bearer realm="stellaops"`
		if dpopScheme || code == "use_dpop_nonce" {
			chal = `DPoP algs="ES256"`
		}
		if code != "" {
			chal += fmt.Sprintf(`, error=%q, error_description=%q`, code, desc)
		}
		if code == "insufficient_scope" {
			shown := scope
			if s.cfg.HostileText {
				// A valid RFC 6749 scope-token that is shell syntax.
				shown = "$(touch${IFS}/tmp/stella-pwned)"
			}
			chal += fmt.Sprintf(`, scope=%q`, shown)
			if _, ok := extra["requiredScope"]; ok {
				extra["requiredScope"] = shown
			}
		}
		if code == "" {
			chal += `, DPoP algs="ES256"`
		}
		w.Header().Set("WWW-Authenticate", chal)
		if backend {
			title := map[int]string{401: "Unauthorized", 403: "Forbidden"}[status]
			problem(w, status, title, s.hostile(desc), extra)
		} else {
			w.WriteHeader(status)
		}
		return nil, false
	}
	if !found || !(strings.EqualFold(scheme, "Bearer") || dpopScheme) || token == "" {
		return deny(http.StatusUnauthorized, "", "an access token is required", nil)
	}
	s.remember(token)
	if backend && s.takeBackend401() {
		return deny(http.StatusUnauthorized, "invalid_token", "injected fault: token rejected once", nil)
	}
	claims, err := s.verifyAccess(token, now)
	if err != nil {
		return deny(http.StatusUnauthorized, "invalid_token", "the access token is invalid: "+err.Error(), nil)
	}
	if !s.tokens.accessValid(fmt.Sprint(claims["jti"]), now) {
		return deny(http.StatusUnauthorized, "invalid_token", "the access token is revoked or unknown", nil)
	}
	cnf, _ := claims["cnf"].(map[string]any)
	bound, _ := cnf["jkt"].(string)
	// RFC 8705 §3: a certificate-bound token only with that certificate.
	if x5t, _ := cnf["x5t#S256"].(string); x5t != "" && clientThumbprint(r) != x5t {
		return deny(http.StatusUnauthorized, "invalid_token", "this token is bound to a client certificate the request did not present", nil)
	}
	switch {
	case bound != "" && !dpopScheme:
		// RFC 9449 §7.1: a DPoP-bound token presented as a bearer token is
		// refused — that is the whole point of binding it.
		return deny(http.StatusUnauthorized, "invalid_token", "this token is DPoP-bound; present it with the DPoP scheme and a proof", nil)
	case bound == "" && dpopScheme:
		return deny(http.StatusUnauthorized, "invalid_token", "this token is not DPoP-bound", nil)
	case bound != "":
		proofs := r.Header.Values("DPoP")
		if len(proofs) != 1 {
			s.stats.proofError()
			return deny(http.StatusUnauthorized, "invalid_dpop_proof", "exactly one DPoP proof is required", nil)
		}
		jkt, err := s.checkProof(proofs[0], r.Method, s.URL()+r.URL.Path, token, now)
		if err != nil {
			var pe *proofError
			if errors.As(err, &pe) && pe.nonce {
				s.stats.nonceChallenge()
				w.Header().Set("DPoP-Nonce", s.dpop.currentNonce(now, s.cfg.DPoPNonceRotate))
				return deny(http.StatusUnauthorized, "use_dpop_nonce", err.Error(), nil)
			}
			s.stats.proofError()
			return deny(http.StatusUnauthorized, "invalid_dpop_proof", err.Error(), nil)
		}
		if jkt != bound {
			s.stats.proofError()
			return deny(http.StatusUnauthorized, "invalid_token", "the proof was made with another key than the token is bound to", nil)
		}
	}
	if backend && s.usedBefore(fmt.Sprint(claims["jti"])) {
		return deny(http.StatusUnauthorized, "invalid_token", "injected fault: access tokens are single-use and this one was used", nil)
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
		if m, ok := misbehaviours[s.takeAnswer("backend")]; ok {
			m(s, w, r)
			return
		}
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

// echo answers with what it was sent (method, query, content type, body),
// so clients' request building can be checked from the outside.
func (s *Server) echo(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "Too Large", "the body is too large", nil)
		return
	}
	out := map[string]any{"method": r.Method, "query": r.URL.RawQuery, "contentType": r.Header.Get("Content-Type"), "body": string(b),
		"xNote": r.Header.Values("X-Note")}
	var parsed any
	if json.Unmarshal(b, &parsed) == nil {
		out["json"] = parsed
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
