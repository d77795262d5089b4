package authority

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const maxForm = 64 << 10

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	base := s.URL()
	if s.cfg.DateSkew != 0 {
		w.Header().Set("Date", s.cfg.Now().Add(s.cfg.DateSkew).UTC().Format(http.TimeFormat))
	}
	doc := map[string]any{
		"issuer":                                     s.advertisedIssuer(),
		"authorization_endpoint":                     base + "/authorize",
		"token_endpoint":                             base + "/token",
		"jwks_uri":                                   base + "/jwks",
		"userinfo_endpoint":                          base + "/userinfo",
		"revocation_endpoint":                        base + "/revoke",
		"introspection_endpoint":                     base + "/introspect",
		"device_authorization_endpoint":              base + "/device_authorization",
		"grant_types_supported":                      []string{"authorization_code", "client_credentials", "refresh_token", "password", "urn:ietf:params:oauth:grant-type:device_code"},
		"response_types_supported":                   []string{"code"},
		"scopes_supported":                           []string{"openid", "profile", "offline_access", "packs.read", "packs.run", "packs.approve"},
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      append(s.cfg.ClientAuthMethods, "none"),
		"id_token_signing_alg_values_supported":      []string{"RS256"},
		"dpop_signing_alg_values_supported":          s.hostileList([]string{"ES256"}),
		"subject_types_supported":                    []string{"public"},
		"tls_client_certificate_bound_access_tokens": s.cfg.TLS,
		// The whole server is TLS here; real deployments often serve mTLS on
		// other hosts, which is what the aliases are for (RFC 8705 §5).
		"mtls_endpoint_aliases": map[string]string{"token_endpoint": base + "/token", "revocation_endpoint": base + "/revoke",
			"userinfo_endpoint": base + "/userinfo"},
	}
	if s.quirk("no-device-endpoint") {
		delete(doc, "device_authorization_endpoint")
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: s.jwksKeys()})
}

// form parses an application/x-www-form-urlencoded body strictly.
func form(r *http.Request) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	// RFC 6749 §3.2: parameters must not repeat.
	for _, v := range r.PostForm {
		if len(v) > 1 {
			return nil, false
		}
	}
	return r.PostForm, true
}

// authenticateClient applies RFC 6749 §2.3: Basic or post for confidential
// clients (as configured), client_id alone for public ones.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request, f url.Values) (client, bool) {
	id, secret, basic := r.BasicAuth()
	method := "none"
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "malformed Basic credentials")
			return client{}, false
		}
		method = "client_secret_basic"
		if f.Get("client_secret") != "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return client{}, false
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
		if secret != "" {
			method = "client_secret_post"
		}
	}
	s.remember(secret)
	c, known := clients[id]
	fail := func(desc string) (client, bool) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="stellaops"`)
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", desc)
		return client{}, false
	}
	switch {
	case !known:
		return fail("unknown client")
	case c.secret == "" && method != "none":
		return fail("public clients do not authenticate with a secret")
	case c.secret != "" && method == "none":
		return fail("client authentication required")
	case c.secret != "" && !slices.Contains(s.cfg.ClientAuthMethods, method):
		return fail(method + " is not enabled")
	case c.secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1:
		return fail("wrong client secret")
	}
	return c, true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, ok := form(r)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form with each parameter once")
		return
	}
	grant := f.Get("grant_type")
	s.stats.grant(grant)
	if d := s.tokenLatency(); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if a := s.takeAnswer("token"); a != "" {
		if m, ok := misbehaviours[a]; ok {
			m(s, w, r)
			return
		}
		w = &rewriter{ResponseWriter: w, answer: a}
	}
	if st, ok := s.takeTokenFault(); ok {
		if st == http.StatusServiceUnavailable {
			oauthError(w, st, "temporarily_unavailable", "injected fault")
		} else {
			problem(w, st, "Internal Server Error", "injected fault", nil)
		}
		return
	}
	c, ok := s.authenticateClient(w, r, f)
	if !ok {
		s.stats.tokenError("invalid_client")
		return
	}
	fail := func(status int, code, desc string) {
		s.stats.tokenError(code)
		oauthError(w, status, code, s.hostile(desc))
	}
	const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"
	switch grant {
	case "client_credentials", "password", "refresh_token", "authorization_code", deviceGrant:
	case "":
		fail(http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		if !slices.Contains(c.grants, grant) {
			fail(http.StatusBadRequest, "unsupported_grant_type", "grant "+grant+" is not supported here")
			return
		}
		fail(http.StatusBadRequest, "unsupported_grant_type", "grant "+grant+" is not available in this stage")
		return
	}
	if !slices.Contains(c.grants, grant) {
		fail(http.StatusBadRequest, "unauthorized_client", "client "+c.id+" may not use "+grant)
		return
	}
	if res := f.Get("resource"); res != "" && res != s.URL() {
		fail(http.StatusBadRequest, "invalid_target", "unknown resource")
		return
	}
	now := s.cfg.Now()
	if s.cfg.RequireDPoPNonce {
		w.Header().Set("DPoP-Nonce", s.dpop.currentNonce(now, s.cfg.DPoPNonceRotate))
	}
	// The proof is checked before the grant: a refused proof must never
	// spend a rotating refresh token.
	x5t := clientThumbprint(r)
	jkt := ""
	if proofs := r.Header.Values("DPoP"); len(proofs) > 0 {
		if len(proofs) > 1 {
			fail(http.StatusBadRequest, "invalid_dpop_proof", "exactly one DPoP header is allowed")
			return
		}
		j, err := s.checkProof(proofs[0], http.MethodPost, s.URL()+"/token", "", now)
		if err != nil {
			var pe *proofError
			if errors.As(err, &pe) && pe.nonce {
				if grant == "refresh_token" && s.quirk("nonce-after-refresh") {
					s.tokens.consume(f.Get("refresh_token"))
				}
				s.stats.nonceChallenge()
				w.Header().Set("DPoP-Nonce", s.dpop.currentNonce(now, s.cfg.DPoPNonceRotate))
				fail(http.StatusBadRequest, "use_dpop_nonce", err.Error())
				return
			}
			fail(http.StatusBadRequest, "invalid_dpop_proof", err.Error())
			return
		}
		jkt = j
	}
	switch grant {
	case "client_credentials":
		scopes, ok := s.scopes(f.Get("scope"), c.scopes)
		if !ok {
			fail(http.StatusBadRequest, "invalid_scope", "scope not allowed for "+c.id)
			return
		}
		approval, why := approvalParams(f)
		if why != "" || (hasScope(scopes, "packs.approve") && (approval == nil || len(scopes) != 1)) {
			fail(http.StatusBadRequest, "invalid_request", "packs.approve is requested alone, with pack_run_id, pack_gate_id and pack_plan_hash "+why)
			return
		}
		s.issue(w, grantRecord{clientID: c.id, subject: c.id, scopes: scopes, approval: approval, x5t: x5t}, nil, now, "", jkt)
	case "password":
		username, password := f.Get("username"), f.Get("password")
		s.remember(password)
		if username != operator.name || subtle.ConstantTimeCompare([]byte(password), []byte(operator.password)) != 1 {
			fail(http.StatusBadRequest, "invalid_grant", "wrong username or password")
			return
		}
		scopes, ok := s.scopes(f.Get("scope"), c.scopes)
		if !ok {
			fail(http.StatusBadRequest, "invalid_scope", "scope not allowed for "+c.id)
			return
		}
		fam := &family{id: randomString(8), grant: grantRecord{clientID: c.id, subject: operator.name, scopes: scopes, user: true, x5t: x5t}}
		if c.secret == "" {
			fam.jkt = jkt // RFC 9449 §5: a public client's refresh tokens are bound to its key
		}
		s.issue(w, fam.grant, fam, now, "", jkt)
	case "refresh_token":
		s.refresh(w, f, c, now, jkt, x5t, fail)
	case "authorization_code":
		s.codeGrant(w, f, c, now, jkt, x5t, fail)
	case deviceGrant:
		s.deviceGrantToken(w, f, c, now, jkt, x5t, fail)
	}
}

// scopes resolves a requested scope string against what the client may
// have: empty means all of them.
func (s *Server) scopes(requested string, allowed []string) ([]string, bool) {
	if strings.TrimSpace(requested) == "" {
		return slices.Clone(allowed), true
	}
	var out []string
	for _, sc := range strings.Fields(requested) {
		if !slices.Contains(allowed, sc) {
			return nil, false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, true
}

func (s *Server) refresh(w http.ResponseWriter, f url.Values, c client, now time.Time, jkt, x5t string, fail func(int, string, string)) {
	// dead refuses the refresh token itself: invalid_grant (RFC 6749
	// §5.2), or what Dex says instead.
	dead := func(desc string) {
		if s.quirk("refresh-invalid-request") {
			fail(http.StatusBadRequest, "invalid_request", "Refresh token is invalid or has already been claimed by another client")
			return
		}
		fail(http.StatusBadRequest, "invalid_grant", desc)
	}
	value := f.Get("refresh_token")
	s.remember(value)
	s.tokens.mu.Lock()
	rt, ok := s.tokens.refresh[value]
	switch {
	case !ok || rt.family.grant.clientID != c.id:
		s.tokens.mu.Unlock()
		dead("unknown refresh token")
		return
	case rt.revoked || rt.family.revoked:
		s.tokens.mu.Unlock()
		dead("refresh token revoked")
		return
	case !now.Before(rt.expires):
		s.tokens.mu.Unlock()
		dead("refresh token expired")
		return
	case rt.family.grant.x5t != "" && rt.family.grant.x5t != x5t:
		s.tokens.mu.Unlock()
		dead("the refresh token is bound to another client certificate")
		return
	case rt.family.jkt != "" && rt.family.jkt != jkt:
		s.tokens.mu.Unlock()
		fail(http.StatusBadRequest, "invalid_dpop_proof", "the refresh token is bound to another DPoP key")
		return
	case rt.used:
		// Reuse of a rotated token: someone else holds a copy. End the family.
		s.tokens.revokeFamily(rt.family)
		s.tokens.mu.Unlock()
		s.stats.reuse()
		dead("refresh token reuse detected; the session is revoked")
		return
	}
	scopes := rt.family.grant.scopes
	approval, why := approvalParams(f)
	if why != "" {
		s.tokens.mu.Unlock()
		fail(http.StatusBadRequest, "invalid_request", why)
		return
	}
	if approval != nil {
		// A down-scoped refresh for one approval: a one-shot packs.approve
		// token; the refresh token is neither rotated nor spent.
		if f.Get("scope") != "packs.approve" || !hasScope(scopes, "packs.approve") {
			s.tokens.mu.Unlock()
			fail(http.StatusBadRequest, "invalid_scope", "an approval refresh asks for packs.approve alone, and the session must hold it")
			return
		}
		fam := rt.family
		s.tokens.mu.Unlock()
		g := fam.grant
		g.scopes, g.approval = []string{"packs.approve"}, approval
		s.issueFull(w, g, nil, now, value, jkt, "")
		return
	}
	if req := f.Get("scope"); req != "" {
		narrowed, ok := s.scopes(req, scopes)
		if !ok {
			s.tokens.mu.Unlock()
			fail(http.StatusBadRequest, "invalid_scope", "a refresh may narrow scopes, never widen them")
			return
		}
		scopes = narrowed
	}
	if s.cfg.RotateRefresh {
		rt.used = true
	}
	fam := rt.family
	fam.refreshed = true
	s.tokens.mu.Unlock()
	g := fam.grant
	g.scopes = scopes
	keep := ""
	if !s.cfg.RotateRefresh {
		keep = value
	}
	s.issue(w, g, fam, now, keep, jkt)
}

// issue writes a token response. A family gets a refresh token when it was
// asked for (offline_access) and rotation is on; keep is a refresh token to
// leave unchanged (no rotation: the response omits it, RFC 6749 §6).
func (s *Server) issue(w http.ResponseWriter, g grantRecord, fam *family, now time.Time, keep, jkt string) {
	s.issueFull(w, g, fam, now, keep, jkt, "")
}

// issueWithNonce issues a fresh user session, echoing the OIDC nonce of
// the authorization request in the ID token.
func (s *Server) issueWithNonce(w http.ResponseWriter, g grantRecord, fam *family, now time.Time, jkt, nonce string) {
	s.issueFull(w, g, fam, now, "", jkt, nonce)
}

func (s *Server) issueFull(w http.ResponseWriter, g grantRecord, fam *family, now time.Time, keep, jkt, nonce string) {
	jti := randomString(12)
	ttl := s.cfg.TokenTTL
	s.mu.Lock()
	if s.faults.ShortTokens > 0 {
		s.faults.ShortTokens--
		ttl = 2 * time.Second
	}
	s.mu.Unlock()
	sub := g.subject
	if g.user {
		sub = s.subjectOf(g.subject)
	}
	claims := map[string]any{
		"iss": s.advertisedIssuer(), "sub": sub, "aud": s.URL(), "client_id": g.clientID,
		"scope": strings.Join(g.scopes, " "), "tenant": operator.tenant, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(), "jti": jti,
	}
	if g.user && !s.quirk("opaque-sub") {
		claims["name"] = operator.display
		if s.withholdsIDToken() {
			claims["name"] = "Unverified Name"
		}
	}
	for k, v := range g.approval {
		claims[k] = v
	}
	if g.x5t != "" {
		claims["cnf"] = map[string]string{"x5t#S256": g.x5t}
	}
	tokenType := "Bearer"
	if jkt != "" {
		claims["cnf"] = map[string]string{"jkt": jkt}
		tokenType = "DPoP"
	}
	at, err := s.sign(claims, "at+jwt")
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	s.tokens.addAccess(&accessToken{jti: jti, value: at, family: fam, expires: now.Add(ttl)})
	resp := map[string]any{"access_token": at, "token_type": tokenType, "expires_in": int(ttl.Seconds()),
		"scope": strings.Join(g.scopes, " ")}
	if fam != nil && slices.Contains(g.scopes, "offline_access") && keep == "" {
		rt := randomString(32)
		s.tokens.addRefresh(&refreshToken{value: rt, family: fam, expires: now.Add(s.cfg.RefreshTTL)})
		resp["refresh_token"] = rt
	}
	if g.user && slices.Contains(g.scopes, "openid") && !s.withholdsIDToken() {
		idc := map[string]any{"iss": s.advertisedIssuer(), "sub": s.hostile(sub), "aud": g.clientID, "iat": now.Unix(),
			"exp": now.Add(ttl).Unix(), "auth_time": now.Unix(), "name": s.hostile(operator.display), "tenant": s.hostile(operator.tenant),
			"email": s.hostile(operator.email)}
		if s.quirk("opaque-sub") {
			delete(idc, "name")
		}
		if nonce != "" {
			idc["nonce"] = nonce
		}
		idt, err := s.idToken(idc, fam != nil && fam.refreshed)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
			return
		}
		resp["id_token"] = idt
		s.tokens.addOther(idt)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if s.takeRevokeFault() {
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "injected fault: revocation is down")
		return
	}
	if s.takeBusy400() {
		oauthError(w, http.StatusBadRequest, "temporarily_unavailable", "injected fault: revocation is busy")
		return
	}
	f, ok := form(r)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
		return
	}
	c, ok := s.authenticateClient(w, r, f)
	if !ok {
		return
	}
	value := f.Get("token")
	s.remember(value)
	s.mu.Lock()
	refreshOnly := s.faults.RevokeRefreshOnly
	s.mu.Unlock()
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if _, isRefresh := s.tokens.refresh[value]; refreshOnly && !isRefresh {
		oauthError(w, http.StatusBadRequest, "unsupported_token_type", "this Authority revokes refresh tokens only")
		return
	}
	if rt, ok := s.tokens.refresh[value]; ok && rt.family.grant.clientID == c.id {
		s.tokens.revokeFamily(rt.family)
		s.stats.revocation()
	} else {
		for _, a := range s.tokens.access {
			if a.value == value {
				if cid := clientOf(a.value); cid == c.id {
					a.revoked = true
					s.stats.revocation()
				}
				break
			}
		}
	}
	// RFC 7009 §2.2: 200 whether or not the token was valid.
	w.WriteHeader(http.StatusOK)
}

// clientOf reads client_id from a token we issued (already trusted).
func clientOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	var c struct {
		ClientID string `json:"client_id"`
	}
	b, err := decodeSegment(parts[1])
	if err != nil || json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.ClientID
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	f, ok := form(r)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
		return
	}
	c, ok := s.authenticateClient(w, r, f)
	if !ok {
		return
	}
	if c.secret == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "introspection needs a confidential client")
		return
	}
	value := f.Get("token")
	s.remember(value)
	now := s.cfg.Now()
	if claims, err := s.verifyAccess(value, now); err == nil && s.tokens.accessValid(fmt.Sprint(claims["jti"]), now) {
		claims["active"] = true
		claims["token_type"] = "Bearer"
		writeJSON(w, http.StatusOK, claims)
		return
	}
	s.tokens.mu.Lock()
	rt, ok := s.tokens.refresh[value]
	active := ok && !rt.revoked && !rt.used && !rt.family.revoked && now.Before(rt.expires)
	var resp map[string]any
	if active {
		resp = map[string]any{"active": true, "client_id": rt.family.grant.clientID, "sub": rt.family.grant.subject,
			"scope": strings.Join(rt.family.grant.scopes, " "), "exp": rt.expires.Unix(), "token_type": "refresh_token"}
	}
	s.tokens.mu.Unlock()
	if resp == nil {
		resp = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authorize(w, r, "openid", false)
	if !ok {
		return
	}
	if s.cfg.IDTokenFault == "no-identity" {
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "userinfo is down")
		return
	}
	if s.takeBusy400() {
		oauthError(w, http.StatusBadRequest, "temporarily_unavailable", "userinfo is busy")
		return
	}
	info := map[string]any{"sub": claims["sub"], "tenant": operator.tenant}
	if s.cfg.IDTokenFault == "userinfo-sub" {
		info["sub"] = "mallory"
	}
	if claims["sub"] == s.subjectOf(operator.name) {
		info["name"], info["email"] = s.hostile(operator.display), s.hostile(operator.email)
		info["tenant"] = s.hostile(operator.tenant)
		if s.quirk("opaque-sub") {
			delete(info, "name")
		}
		if s.cfg.HostileText {
			info["sub"] = s.hostile(s.subjectOf(operator.name)) // as the ID token's
		}
	}
	writeJSON(w, http.StatusOK, info)
}
