package authority

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// authRequest is a pending or approved authorization request.
type authRequest struct {
	clientID, redirectURI, state, nonce, challenge, dpopJKT string
	scopes                                                  []string
}

type authCode struct {
	req     authRequest
	expires time.Time
	used    bool
}

type deviceGrant struct {
	deviceCode, userCode, clientID string
	scopes                         []string
	expires                        time.Time
	interval                       time.Duration
	lastPoll                       time.Time
	status                         string // pending, approved, denied, used
}

type interactive struct {
	mu       sync.Mutex
	pending  map[string]authRequest // consent-page id → request
	codes    map[string]*authCode
	devices  map[string]*deviceGrant // by device code
	byUser   map[string]*deviceGrant // by normalised user code
	lastUser string
}

func newInteractive() *interactive {
	return &interactive{pending: map[string]authRequest{}, codes: map[string]*authCode{}, devices: map[string]*deviceGrant{},
		byUser: map[string]*deviceGrant{}}
}

// validRedirect applies RFC 8252 §7.3: a loopback IP literal over http, any
// port, and exactly the registered path.
func validRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.RawQuery != "" || u.Fragment != "" || u.Path != "/callback" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback() && u.Port() != ""
}

var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — StellaOps development Authority</title></head>
<body><h1>{{.Title}}</h1>
{{if .Error}}<p id="error" style="color:#b00">{{.Error}}</p>{{end}}
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
{{if .Client}}<p><b>{{.Client}}</b> asks for: <span id="scopes">{{.Scopes}}</span></p>{{end}}
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .AskCode}}<label>Code <input id="user_code" name="user_code" value="{{.UserCode}}" autocomplete="off"></label><br>{{end}}
<label>User <input id="username" name="username" autocomplete="username"></label><br>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label><br>
<button id="approve" name="action" value="approve" type="submit">Approve</button>
<button id="deny" name="action" value="deny" type="submit">Deny</button>
</form>{{end}}
</body></html>`))

type page struct {
	Title, Error, Message, Action, Client, Scopes, UserCode string
	Form, AskCode                                           bool
	Hidden                                                  map[string]string
}

func render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// authorizeGet validates an authorization request (RFC 6749 §4.1.1, RFC
// 7636, RFC 8252) and shows the consent page, or with -auto-approve
// answers at once. Errors about the client or redirect URI are shown, never
// redirected (RFC 6749 §4.1.2.1).
func (s *Server) authorizeGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := clients[q.Get("client_id")]
	if !ok || !slices.Contains(c.grants, "authorization_code") {
		render(w, http.StatusBadRequest, page{Title: "Sign-in refused", Error: "unknown client or client not allowed to use the browser sign-in"})
		return
	}
	redirect := q.Get("redirect_uri")
	if !validRedirect(redirect) {
		render(w, http.StatusBadRequest, page{Title: "Sign-in refused", Error: "redirect_uri must be http://127.0.0.1:<port>/callback"})
		return
	}
	fail := func(code, desc string) { s.redirectError(w, r, redirect, q.Get("state"), code, desc) }
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only code is supported")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "PKCE with S256 is required")
		return
	case q.Get("state") == "":
		fail("invalid_request", "state is required")
		return
	}
	scopes, ok := s.scopes(q.Get("scope"), c.scopes)
	if !ok {
		fail("invalid_scope", "scope not allowed")
		return
	}
	if code := s.takeAuthorizeError(); code != "" {
		fail(code, "injected fault")
		return
	}
	// state, nonce and the challenge are the client's secrets for this
	// sign-in: the leak checks look for them in what stella prints.
	s.remember(q.Get("state"))
	s.remember(q.Get("nonce"))
	req := authRequest{clientID: c.id, redirectURI: redirect, state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), dpopJKT: q.Get("dpop_jkt"), scopes: scopes}
	if s.cfg.AutoApprove {
		s.approve(w, r, req)
		return
	}
	id := randomString(16)
	s.inter.mu.Lock()
	s.inter.pending[id] = req
	s.inter.mu.Unlock()
	render(w, http.StatusOK, page{Title: "Sign in to StellaOps", Form: true, Action: "/authorize", Client: c.id,
		Scopes: strings.Join(scopes, " "), Hidden: map[string]string{"request": id}})
}

func (s *Server) authorizePost(w http.ResponseWriter, r *http.Request) {
	f, ok := form(r)
	if !ok {
		render(w, http.StatusBadRequest, page{Title: "Sign-in refused", Error: "malformed form"})
		return
	}
	id := f.Get("request")
	s.inter.mu.Lock()
	req, ok := s.inter.pending[id]
	if ok && f.Get("action") == "deny" {
		delete(s.inter.pending, id)
	}
	s.inter.mu.Unlock()
	if !ok {
		render(w, http.StatusBadRequest, page{Title: "Sign-in refused", Error: "this sign-in request is unknown or already answered"})
		return
	}
	if f.Get("action") == "deny" {
		s.redirectError(w, r, req.redirectURI, req.state, "access_denied", "the user denied the request")
		return
	}
	if !s.checkUser(f.Get("username"), f.Get("password")) {
		render(w, http.StatusOK, page{Title: "Sign in to StellaOps", Error: "wrong user name or password", Form: true, Action: "/authorize",
			Client: req.clientID, Scopes: strings.Join(req.scopes, " "), Hidden: map[string]string{"request": id}})
		return
	}
	s.inter.mu.Lock()
	delete(s.inter.pending, id)
	s.inter.mu.Unlock()
	s.approve(w, r, req)
}

func (s *Server) checkUser(name, password string) bool {
	s.remember(password)
	return name == operator.name && subtle.ConstantTimeCompare([]byte(password), []byte(operator.password)) == 1
}

// approve issues a code and sends the browser back with it, and with iss
// (RFC 9207) so the client can tell which Authority answered.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, req authRequest) {
	code := randomString(32)
	s.inter.mu.Lock()
	s.inter.codes[code] = &authCode{req: req, expires: s.cfg.Now().Add(time.Minute)}
	s.inter.mu.Unlock()
	s.tokens.addOther(code)
	iss := s.advertisedIssuer()
	if s.cfg.IDTokenFault == "authz-iss" {
		iss = "https://impostor.example.com"
	}
	v := url.Values{"code": {code}, "state": {req.state}, "iss": {iss}}
	http.Redirect(w, r, req.redirectURI+"?"+v.Encode(), http.StatusFound)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirect, state, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {s.hostile(desc)}, "iss": {s.advertisedIssuer()}}
	if state != "" {
		v.Set("state", state)
	}
	http.Redirect(w, r, redirect+"?"+v.Encode(), http.StatusFound)
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) codeGrant(w http.ResponseWriter, f url.Values, c client, now time.Time, jkt, x5t string, fail func(int, string, string)) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	s.remember(verifier)
	s.inter.mu.Lock()
	ac, ok := s.inter.codes[code]
	valid := ok && !ac.used && now.Before(ac.expires)
	if ok {
		ac.used = true // single use, even when this attempt fails
	}
	s.inter.mu.Unlock()
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case !valid || ac.req.clientID != c.id:
		fail(http.StatusBadRequest, "invalid_grant", "unknown, expired or used code")
		return
	case f.Get("redirect_uri") != ac.req.redirectURI:
		fail(http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	case len(verifier) < 43 || len(verifier) > 128 || base64.RawURLEncoding.EncodeToString(sum[:]) != ac.req.challenge:
		fail(http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	case ac.req.dpopJKT != "" && ac.req.dpopJKT != jkt:
		fail(http.StatusBadRequest, "invalid_dpop_proof", "the proof's key differs from dpop_jkt of the authorization request")
		return
	}
	// RFC 8705 §3: with a client certificate at the token endpoint, the
	// tokens (and, for a public client, the refresh token) are bound to it.
	fam := &family{id: randomString(8), grant: grantRecord{clientID: c.id, subject: operator.name, scopes: ac.req.scopes, user: true, x5t: x5t}, jkt: jkt}
	s.issueWithNonce(w, fam.grant, fam, now, jkt, ac.req.nonce)
}

// deviceAuthorization starts RFC 8628 §3.1.
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	f, ok := form(r)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
		return
	}
	if s.quirk("no-device-endpoint") {
		http.NotFound(w, r)
		return
	}
	c, ok := s.authenticateClient(w, r, f)
	if !ok {
		return
	}
	if !slices.Contains(c.grants, "urn:ietf:params:oauth:grant-type:device_code") {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "client may not use the device flow")
		return
	}
	scopes, ok := s.scopes(f.Get("scope"), c.scopes)
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", s.hostile("scope not allowed"))
		return
	}
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ" // no vowels: no words, no 0/O confusion
	raw := []byte(randomString(8))
	uc := make([]byte, 8)
	for i := range uc {
		uc[i] = alphabet[int(raw[i])%len(alphabet)]
	}
	g := &deviceGrant{deviceCode: randomString(32), userCode: string(uc), clientID: c.id, scopes: scopes,
		expires: s.cfg.Now().Add(s.cfg.DeviceTTL), interval: s.cfg.DeviceInterval, status: "pending"}
	if s.cfg.AutoApprove {
		g.status = "approved"
	}
	s.inter.mu.Lock()
	s.inter.devices[g.deviceCode] = g
	s.inter.byUser[g.userCode] = g
	s.inter.lastUser = g.userCode
	s.inter.mu.Unlock()
	s.tokens.addOther(g.deviceCode)
	base := s.URL()
	shownCode, complete := g.userCode, base+"/device?user_code="+g.userCode
	if s.cfg.HostileText {
		// What the user reads is not what they type (Trojan Source), and
		// the part after '?' of a URI is text too.
		shownCode = g.userCode[:4] + "\u202e" + g.userCode[4:] + "\u202c"
		complete += "&x=" + hostilePayload
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_code": g.deviceCode, "user_code": shownCode,
		"verification_uri": base + "/device", "verification_uri_complete": complete,
		"expires_in": int(s.cfg.DeviceTTL.Seconds()), "interval": int(s.cfg.DeviceInterval.Seconds())})
}

func normalizeUserCode(c string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(c))
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, page{Title: "Connect a device", Form: true, AskCode: true, Action: "/device", UserCode: r.URL.Query().Get("user_code")})
}

func (s *Server) deviceSubmit(w http.ResponseWriter, r *http.Request) {
	f, ok := form(r)
	if !ok {
		render(w, http.StatusBadRequest, page{Title: "Connect a device", Error: "malformed form"})
		return
	}
	s.inter.mu.Lock()
	g, ok := s.inter.byUser[normalizeUserCode(f.Get("user_code"))]
	s.inter.mu.Unlock()
	if !ok || s.cfg.Now().After(g.expires) {
		render(w, http.StatusOK, page{Title: "Connect a device", Error: "unknown or expired code", Form: true, AskCode: true, Action: "/device"})
		return
	}
	if f.Get("action") == "deny" {
		s.setDevice(g, "denied")
		render(w, http.StatusOK, page{Title: "Request denied", Message: "The device was not connected. You can close this page."})
		return
	}
	if !s.checkUser(f.Get("username"), f.Get("password")) {
		render(w, http.StatusOK, page{Title: "Connect a device", Error: "wrong user name or password", Form: true, AskCode: true, Action: "/device",
			UserCode: f.Get("user_code")})
		return
	}
	s.setDevice(g, "approved")
	render(w, http.StatusOK, page{Title: "Device connected", Message: "You are signed in on your device. You can close this page."})
}

func (s *Server) setDevice(g *deviceGrant, status string) {
	s.inter.mu.Lock()
	defer s.inter.mu.Unlock()
	if g.status == "pending" {
		g.status = status
	}
}

// deviceGrantToken answers a poll (RFC 8628 §3.4, §3.5).
func (s *Server) deviceGrantToken(w http.ResponseWriter, f url.Values, c client, now time.Time, jkt, x5t string, fail func(int, string, string)) {
	s.remember(f.Get("device_code"))
	s.inter.mu.Lock()
	g, ok := s.inter.devices[f.Get("device_code")]
	if !ok || g.clientID != c.id {
		s.inter.mu.Unlock()
		fail(http.StatusBadRequest, "invalid_grant", "unknown device code")
		return
	}
	if s.takeSlowDown() {
		g.lastPoll = now
		g.interval += 5 * time.Second
		s.inter.mu.Unlock()
		fail(http.StatusBadRequest, "slow_down", "injected: polling too fast")
		return
	}
	tooFast := !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < g.interval
	g.lastPoll = now
	status := g.status
	if tooFast && status == "pending" {
		g.interval += 5 * time.Second
	}
	if status == "approved" {
		g.status = "used"
	}
	s.inter.mu.Unlock()
	switch {
	case now.After(g.expires):
		fail(http.StatusBadRequest, "expired_token", "the device code expired")
	case status == "denied":
		fail(http.StatusBadRequest, "access_denied", "the user denied the request")
	case status == "used":
		fail(http.StatusBadRequest, "invalid_grant", "the device code was already redeemed")
	case tooFast && status == "pending":
		fail(http.StatusBadRequest, "slow_down", "polling too fast")
	case status == "pending":
		fail(http.StatusBadRequest, "authorization_pending", "waiting for the user")
	default:
		fam := &family{id: randomString(8), grant: grantRecord{clientID: c.id, subject: operator.name, scopes: g.scopes, user: true, x5t: x5t}, jkt: jkt}
		s.issueWithNonce(w, fam.grant, fam, now, jkt, "")
	}
}

// adminDevice lets tests approve or deny the latest (or a named) device
// request without a browser.
func (s *Server) adminDevice(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserCode string `json:"userCode"`
		Action   string `json:"action"`
		Expire   bool   `json:"expire"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", err.Error(), nil)
		return
	}
	s.inter.mu.Lock()
	code := normalizeUserCode(body.UserCode)
	if code == "" {
		code = s.inter.lastUser
	}
	g, ok := s.inter.byUser[code]
	ok = ok && g.status == "pending" && s.cfg.Now().Before(g.expires) // only a request still waiting for a person
	if ok && body.Expire {
		g.expires = s.cfg.Now().Add(-time.Second)
	}
	s.inter.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no pending device request", nil)
		return
	}
	switch body.Action {
	case "approve":
		s.setDevice(g, "approved")
	case "deny":
		s.setDevice(g, "denied")
	}
	w.WriteHeader(http.StatusNoContent)
}
