package authority

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// stats counts what clients did, for tests to assert on.
type stats struct {
	mu          sync.Mutex
	endpoints   map[string]int
	grants      map[string]int
	tokenErrors map[string]int
	reused      int
	revocations int
	nonces      int
	proofErrors int
	closes      map[string]int // close codes clients sent on followed streams
}

func newStats() *stats {
	return &stats{endpoints: map[string]int{}, grants: map[string]int{}, tokenErrors: map[string]int{}, closes: map[string]int{}}
}

func (s *stats) endpoint(p string) { s.mu.Lock(); s.endpoints[p]++; s.mu.Unlock() }
func (s *stats) grant(g string) {
	if g == "" {
		return
	}
	s.mu.Lock()
	s.grants[g]++
	s.mu.Unlock()
}
func (s *stats) tokenError(c string) { s.mu.Lock(); s.tokenErrors[c]++; s.mu.Unlock() }
func (s *stats) reuse()              { s.mu.Lock(); s.reused++; s.mu.Unlock() }
func (s *stats) revocation()         { s.mu.Lock(); s.revocations++; s.mu.Unlock() }
func (s *stats) nonceChallenge()     { s.mu.Lock(); s.nonces++; s.mu.Unlock() }
func (s *stats) proofError()         { s.mu.Lock(); s.proofErrors++; s.mu.Unlock() }
func (s *stats) streamClose(code int) {
	s.mu.Lock()
	s.closes[strconv.Itoa(code)]++
	s.mu.Unlock()
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": st.endpoints, "grants": st.grants, "tokenErrors": st.tokenErrors,
		"refreshReuseDetected": st.reused, "revocations": st.revocations, "dpopNonceChallenges": st.nonces,
		"dpopProofErrors": st.proofErrors, "streamCloses": st.closes}) // streamCloses["0"] counts followed streams opened
}

// ShortenTokens makes the next n access tokens live 2 s, like the
// shortTokens fault, for Go tests that run the Authority in-process.
func (s *Server) ShortenTokens(n int) {
	s.mu.Lock()
	s.faults.ShortTokens += n
	s.mu.Unlock()
}

// Counts returns the number of token grants by type and of refresh-token
// reuses detected, for Go tests that run the Authority in-process.
func (s *Server) Counts() (grants map[string]int, reuseDetected int) {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	grants = make(map[string]int, len(st.grants))
	for k, v := range st.grants {
		grants[k] = v
	}
	return grants, st.reused
}

func (s *Server) resetStats(w http.ResponseWriter, _ *http.Request) {
	s.stats = newStats()
	w.WriteHeader(http.StatusNoContent)
}

// faults are injected failures, consumed one request at a time.
type faults struct {
	TokenErrors        int    `json:"tokenErrors"`
	TokenErrorStatus   int    `json:"tokenErrorStatus"`
	Backend401         int    `json:"backend401"`
	BackendErrors      int    `json:"backendErrors"`
	BackendErrorStatus int    `json:"backendErrorStatus"`
	Latency            string `json:"latency"`
	TokenLatency       string `json:"tokenLatency"`    // added to token requests only (a slow refresh others wait for)
	AuthorizeError     string `json:"authorizeError"`  // the next authorization request is answered with this error at the redirect URI
	SingleUseTokens    bool   `json:"singleUseTokens"` // the backend accepts each access token once (every process then renews)
	RevokeErrors       int    `json:"revokeErrors"`    // the next N revocation requests answer 503 (the endpoint is down)
	// Busy400: the next N userinfo and revocation requests answer 400
	// {"error":"temporarily_unavailable"}, as Authorities that put a
	// transient failure in an OAuth error, not a 5xx, do.
	Busy400 int `json:"busy400"`
	// RevokeRefreshOnly: revocation revokes refresh tokens only and answers
	// any other token 400 unsupported_token_type (RFC 7009 §2.2.1), as an
	// Authority that cannot revoke self-contained access tokens does.
	RevokeRefreshOnly bool   `json:"revokeRefreshOnly"`
	SlowDown          int    `json:"slowDown"`        // the next N device polls answer slow_down
	StreamForbidden   int    `json:"streamForbidden"` // the next N stream upgrades answer 403
	ShortTokens       int    `json:"shortTokens"`     // the next N access tokens live 2 s (a session about to expire)
	TokenAnswer       string `json:"tokenAnswer"`     // the next token response misbehaves: huge, drip, reset, malformed, html, html-200, redirect, expires-*, token-type-mac
	BackendAnswer     string `json:"backendAnswer"`   // the next backend answer misbehaves: huge, drip, reset, malformed, html, redirect
}

func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.faults)
}

func (s *Server) setFaults(w http.ResponseWriter, r *http.Request) {
	var f faults
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", "faults: "+err.Error(), nil)
		return
	}
	for _, a := range []string{f.TokenAnswer, f.BackendAnswer} {
		_, known := misbehaviours[a]
		_, rewrite := expiresAnswers[a]
		if a != "" && !known && !rewrite && a != "token-type-mac" {
			problem(w, http.StatusBadRequest, "Bad Request", "unknown answer "+a, nil)
			return
		}
	}
	for _, l := range []string{f.Latency, f.TokenLatency} {
		if l == "" {
			continue
		}
		if _, err := time.ParseDuration(l); err != nil {
			problem(w, http.StatusBadRequest, "Bad Request", "latency: "+err.Error(), nil)
			return
		}
	}
	s.mu.Lock()
	s.faults.TokenErrors += f.TokenErrors
	if f.TokenErrorStatus != 0 {
		s.faults.TokenErrorStatus = f.TokenErrorStatus
	}
	s.faults.Backend401 += f.Backend401
	s.faults.BackendErrors += f.BackendErrors
	if f.BackendErrorStatus != 0 {
		s.faults.BackendErrorStatus = f.BackendErrorStatus
	}
	if f.Latency != "" {
		s.faults.Latency = f.Latency
	}
	if f.TokenLatency != "" {
		s.faults.TokenLatency = f.TokenLatency
	}
	if f.AuthorizeError != "" {
		s.faults.AuthorizeError = f.AuthorizeError
	}
	s.faults.SingleUseTokens = f.SingleUseTokens || s.faults.SingleUseTokens
	s.faults.RevokeRefreshOnly = f.RevokeRefreshOnly || s.faults.RevokeRefreshOnly
	s.faults.RevokeErrors += f.RevokeErrors
	s.faults.Busy400 += f.Busy400
	s.faults.SlowDown += f.SlowDown
	s.faults.ShortTokens += f.ShortTokens
	if f.TokenAnswer != "" {
		s.faults.TokenAnswer = f.TokenAnswer
	}
	if f.BackendAnswer != "" {
		s.faults.BackendAnswer = f.BackendAnswer
	}
	s.faults.StreamForbidden += f.StreamForbidden
	cur := s.faults
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, cur)
}

func (s *Server) takeTokenFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.TokenErrors == 0 {
		return 0, false
	}
	s.faults.TokenErrors--
	if s.faults.TokenErrorStatus < 500 {
		return http.StatusServiceUnavailable, true
	}
	return s.faults.TokenErrorStatus, true
}

func (s *Server) takeBackend401() bool { return s.take(&s.faults.Backend401) }

func (s *Server) takeBackendFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.BackendErrors == 0 {
		return 0, false
	}
	s.faults.BackendErrors--
	if s.faults.BackendErrorStatus < 500 {
		return http.StatusInternalServerError, true
	}
	return s.faults.BackendErrorStatus, true
}

func (s *Server) latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := time.ParseDuration(s.faults.Latency)
	return d
}

func (s *Server) tokenLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := time.ParseDuration(s.faults.TokenLatency)
	return d
}

func (s *Server) revokeAll(w http.ResponseWriter, _ *http.Request) {
	s.tokens.revokeAll()
	w.WriteHeader(http.StatusNoContent)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) takeSlowDown() bool { return s.take(&s.faults.SlowDown) }

func (s *Server) takeStreamForbidden() bool { return s.take(&s.faults.StreamForbidden) }

// takeAuthorizeError returns the error code queued for the next
// authorization request, consuming it.
func (s *Server) takeAuthorizeError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.faults.AuthorizeError
	s.faults.AuthorizeError = ""
	return e
}

// usedBefore applies the singleUseTokens fault: it records the access
// token's jti and reports whether the backend had already seen it.
func (s *Server) usedBefore(jti string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.faults.SingleUseTokens {
		return false
	}
	if s.usedJTIs == nil {
		s.usedJTIs = map[string]bool{}
	}
	used := s.usedJTIs[jti]
	s.usedJTIs[jti] = true
	return used
}

// forgetNonces drops the current and previous DPoP nonces: every nonce a
// client kept is stale from now on.
func (s *Server) forgetNonces(w http.ResponseWriter, _ *http.Request) {
	s.dpop.mu.Lock()
	s.dpop.nonce, s.dpop.previous = "", ""
	s.dpop.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// takeBusy400 consumes one injected 400 temporarily_unavailable.
func (s *Server) takeBusy400() bool { return s.take(&s.faults.Busy400) }

// takeRevokeFault consumes one injected revocation failure.
func (s *Server) takeRevokeFault() bool { return s.take(&s.faults.RevokeErrors) }

// take consumes one of the injected faults counter counts.
func (s *Server) take(counter *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *counter == 0 {
		return false
	}
	*counter--
	return true
}
