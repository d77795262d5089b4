package testscripts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The interop suite runs stella (stellaBinary) against panva's oidc-provider
// (OpenID Certified, from the npm registry; testscripts/interop/oidc-provider),
// so passing proves stella speaks the standards as others implement them,
// not only as our development Authority does. Every scenario runs twice:
// once plain, once with DPoP nonces required by the provider and by its
// resource server. Locally the suite skips when Node or the provider's
// node_modules are missing (`make interop-deps`); in CI (CI=true or
// STELLA_TEST_INTEROP=require) it fails instead.

const providerDir = "interop/oidc-provider"

func requireProvider(t *testing.T) {
	t.Helper()
	why := ""
	if _, err := exec.LookPath("node"); err != nil {
		why = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(providerDir, "node_modules", "oidc-provider")); err != nil {
		why = "the provider's dependencies are not installed (make interop-deps)"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("STELLA_TEST_INTEROP") == "require" {
		t.Fatalf("the interop suite must run here, but %s", why)
	}
	t.Skipf("interop suite skipped: %s", why)
}

// op is one running oidc-provider.
type op struct {
	t      *testing.T
	issuer string
	http   *http.Client
	logs   *lockedBuffer // the provider's stderr: its own log of every refused request

	mu       sync.Mutex
	sessions []*session
}

func startOP(t *testing.T, flags ...string) *op {
	t.Helper()
	requireProvider(t)
	cmd := exec.Command("node", append([]string{"server.js"}, flags...)...)
	cmd.Dir = providerDir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("oidc-provider's log:\n%s", errb.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		issuer, ok := strings.CutPrefix(l, "listening ")
		if !ok {
			t.Fatalf("oidc-provider said %q", l)
		}
		jar, _ := cookiejar.New(nil)
		return &op{t: t, issuer: issuer, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}, logs: errb}
	case <-time.After(30 * time.Second):
		t.Fatalf("oidc-provider did not start:\n%s", errb.String())
	}
	return nil
}

// lockedBuffer is a bytes.Buffer that several goroutines may write while
// another reads it: a process's stderr copier and the test, or stella's.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// refusedForNonce counts the token requests the provider refused with
// use_dpop_nonce, from its own log (server.js logs every grant.error).
func (o *op) refusedForNonce() int {
	return strings.Count(o.logs.String(), "grant.error use_dpop_nonce")
}

func (o *op) admin(method, path string) []byte {
	o.t.Helper()
	req, _ := http.NewRequest(method, o.issuer+path, nil)
	resp, err := harnessClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

type opStats struct {
	Grants      map[string]int `json:"token_requests_by_grant"`
	Reuse       int            `json:"refresh_reuse_detected"`
	DeviceCodes int            `json:"device_codes_issued"`
	Revocations int            `json:"revocations"`
	Backend     int            `json:"backend_calls"`
	Nonces      int            `json:"dpop_nonce_challenges"`
	BackendNonc int            `json:"backend_dpop_nonce_challenges"`
}

func (o *op) stats() opStats {
	var s opStats
	if err := json.Unmarshal(o.admin(http.MethodGet, "/admin/stats"), &s); err != nil {
		o.t.Fatal(err)
	}
	return s
}

// session is one stella configuration against the provider. Everything
// its commands print is kept for the leak check.
type session struct {
	t   *testing.T
	op  *op
	dir string
	env []string

	mu      sync.Mutex
	records []record
}

type record struct {
	args           []string
	stdout, stderr string
}

func (s *session) record(args []string, stdout, stderr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, record{args, stdout, stderr})
}

func (o *op) session(t *testing.T, clientID string, extra ...string) *session {
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "NO_COLOR=1", "STELLA_NON_INTERACTIVE=1",
		"STELLA_CONFIG_DIR=" + filepath.Join(dir, "cfg"), "STELLA_AUTHORITY_URL=" + o.issuer, "STELLA_BACKEND_URL=" + o.issuer,
		"STELLA_CLIENT_ID=" + clientID, "STELLA_TOKEN_STORAGE=file", "STELLA_CACHE_PASSPHRASE=interop-passphrase"}
	s := &session{t: t, op: o, dir: dir, env: append(env, extra...)}
	o.mu.Lock()
	o.sessions = append(o.sessions, s)
	o.mu.Unlock()
	return s
}

// leakCheck fails if any secret the provider issued or received (tokens,
// codes, verifiers, device codes, the client secret, the password) appears,
// plain, base64 or URL-encoded, in anything stella printed or in any file
// under a session's config directory; `auth token` / `auth header` print
// a token on stdout on purpose.
func (o *op) leakCheck(t *testing.T) {
	var doc struct {
		Secrets []string `json:"secrets"`
	}
	if err := json.Unmarshal(o.admin(http.MethodGet, "/admin/secrets"), &doc); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var hay []string
	for _, s := range o.sessions {
		s.mu.Lock()
		for _, r := range s.records {
			if !printsTokenOnPurpose(r.args) {
				hay = append(hay, "stdout of stella "+strings.Join(r.args, " ")+"\n"+r.stdout)
			}
			hay = append(hay, "stderr of stella "+strings.Join(r.args, " ")+"\n"+r.stderr)
		}
		s.mu.Unlock()
		_ = filepath.WalkDir(filepath.Join(s.dir, "cfg"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil {
					hay = append(hay, p+"\n"+string(b))
				}
			}
			return nil
		})
	}
	for _, sec := range doc.Secrets {
		if len(sec) < 8 {
			continue
		}
		for _, form := range encodings(sec) {
			for _, h := range hay {
				if strings.Contains(h, form) {
					where, _, _ := strings.Cut(h, "\n")
					t.Errorf("a secret (%d chars, starting %.4q) appears in %s", len(sec), sec, where)
				}
			}
		}
	}
	if len(doc.Secrets) < 10 {
		t.Errorf("the provider reported only %d secrets; the leak check would prove little", len(doc.Secrets))
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// cmd runs stella with -v -v, its most verbose logging, so the leak check
// sees everything stella can write.
func (s *session) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(stellaBinary(s.t), append([]string{"-v", "-v"}, args...)...)
	cmd.Env = s.env
	return cmd
}

func (s *session) run(args ...string) result {
	s.t.Helper()
	cmd := s.cmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	s.record(args, out.String(), errb.String())
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (s *session) ok(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("stella %s exited %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (s *session) me() map[string]any {
	s.t.Helper()
	r := s.ok("api", "GET", "/api/v1/me")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		s.t.Fatalf("backend answer %q: %v", r.stdout, err)
	}
	return doc
}

func TestInterop(t *testing.T) {
	requireProvider(t)
	for _, mode := range []struct {
		name  string
		flags []string
	}{{"plain", nil}, {"dpop-nonces-required", []string{"--require-dpop-nonce"}}, {"hard", hardFlags}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel() // one provider per mode
			o := startOP(t, mode.flags...)
			if mode.name == "hard" {
				t.Run("refresh-race-and-nonces", func(t *testing.T) { interopHard(t, o) })
				t.Run("logout", func(t *testing.T) { interopLogout(t, o) })
				t.Run("no-secret-leaks", func(t *testing.T) { o.leakCheck(t) })
				return
			}
			nonces := len(mode.flags) > 0
			t.Run("client-credentials", func(t *testing.T) { interopClientCredentials(t, o, nonces) })
			t.Run("device-flow", func(t *testing.T) { interopDevice(t, o, nonces) })
			t.Run("browser-flow", func(t *testing.T) { interopBrowser(t, o) })
			t.Run("refresh-and-race", func(t *testing.T) { interopRefresh(t, o) })
			t.Run("logout", func(t *testing.T) { interopLogout(t, o) })
			t.Run("no-secret-leaks", func(t *testing.T) { o.leakCheck(t) })
		})
	}
}

func interopClientCredentials(t *testing.T, o *op, nonces bool) {
	for _, tc := range []struct {
		mode  string
		bound bool
	}{{"dpop", true}, {"bearer", false}} {
		s := o.session(t, "stella-ci", "STELLA_CLIENT_SECRET=stella-ci-secret", "STELLA_SCOPE=stellaops.api",
			"STELLA_TOKEN_STORAGE=memory", "STELLA_AUTH_MODE="+tc.mode)
		before := o.stats()
		doc := s.me()
		if doc["sub"] != "stella-ci" || doc["dpop_bound"] != tc.bound {
			t.Fatalf("%s: backend says %v", tc.mode, doc)
		}
		after := o.stats()
		if nonces && tc.bound && (after.Nonces <= before.Nonces || after.BackendNonc <= before.BackendNonc) {
			t.Fatalf("%s: nonce challenges not seen (token %d→%d, backend %d→%d)", tc.mode, before.Nonces, after.Nonces, before.BackendNonc, after.BackendNonc)
		}
	}
}

// userSession signs operator in with the device flow, driving the
// provider's own verification, login and consent pages over HTTP.
func userSession(t *testing.T, o *op, decision string, extra ...string) (*session, result) {
	s := o.session(t, "stella-cli", append([]string{"STELLA_SCOPE=openid profile offline_access"}, extra...)...)
	before := o.stats().DeviceCodes
	cmd := s.cmd("--timeout", "60s", "auth", "login", "--headless")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := ""
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && code == ""; time.Sleep(50 * time.Millisecond) {
		if o.stats().DeviceCodes > before {
			var latest struct {
				UserCode string `json:"user_code"`
			}
			_ = json.Unmarshal(o.admin(http.MethodGet, "/admin/device/latest"), &latest)
			code = latest.UserCode
		}
	}
	if code == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("no device code was issued; stella said %s", errb.String())
	}
	if !strings.Contains(errb.String(), code) && !strings.Contains(errb.String(), strings.ReplaceAll(code, "-", "")) {
		// stella prints the code; give it a moment to flush.
		time.Sleep(200 * time.Millisecond)
	}
	driveForms(t, o, o.issuer+"/device", map[string]string{"user_code": code}, decision)
	err := cmd.Wait()
	s.record([]string{"auth", "login", "--headless"}, out.String(), errb.String())
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	}
	return s, r
}

var (
	formRe   = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<input[^>]*>`)
	buttonRe = regexp.MustCompile(`(?is)<button[^>]*>`)
	attrRe   = regexp.MustCompile(`(?is)\b(name|value|id|type)="([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// driveForms plays a person with an HTTP client and a cookie jar: it fills
// each page's form (the device code, the login, the consent) and submits
// it until the provider says the device is signed in or the flow ends.
func driveForms(t *testing.T, o *op, start string, fields map[string]string, decision string) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := client.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 8; step++ {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if strings.Contains(page, `id="done"`) {
			return
		}
		// After a denial the provider shows its code form again, with the error.
		if decision == "deny" && step > 0 && strings.Contains(page, `class="error"`) {
			return
		}
		f := formRe.FindStringSubmatch(page)
		if f == nil {
			t.Fatalf("step %d: no form on %s (status %d):\n%s", step, resp.Request.URL, resp.StatusCode, page)
		}
		form := url.Values{}
		for _, in := range inputRe.FindAllString(f[2], -1) {
			a := attrs(in)
			if a["name"] == "" {
				continue
			}
			form.Set(a["name"], a["value"])
			if v, ok := fields[a["name"]]; ok {
				form.Set(a["name"], v)
			}
		}
		if strings.Contains(f[2], `id="username"`) {
			form.Set("username", "operator")
			form.Set("password", "operator-password")
		}
		for _, b := range buttonRe.FindAllString(f[2], -1) {
			a := attrs(b)
			want := map[string]bool{"allow": decision == "allow", "deny": decision == "deny", "confirm": true, "submit": true, "sign-in": true}
			if want[a["id"]] && a["name"] != "" {
				form.Set(a["name"], a["value"])
			}
		}
		action, err := resp.Request.URL.Parse(html.UnescapeString(f[1]))
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = client.PostForm(action.String(), form); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the flow did not end within 8 pages")
}

func interopDevice(t *testing.T, o *op, nonces bool) {
	s, r := userSession(t, o, "allow")
	if r.code != 0 || !strings.Contains(r.stdout, "operator") {
		t.Fatalf("device sign-in exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	st := s.ok("auth", "status")
	if !strings.Contains(st.stdout, "refresh token held") || !strings.Contains(st.stdout, "DPoP (jkt ") {
		t.Fatalf("status after device sign-in:\n%s", st.stdout)
	}
	// whoami through userinfo, with the DPoP-bound token and a proof.
	w := s.ok("auth", "whoami", "--json")
	var who map[string]any
	if err := json.Unmarshal([]byte(w.stdout), &who); err != nil {
		t.Fatal(err)
	}
	if who["source"] != "userinfo" || !strings.Contains(w.stdout, `"name": "Operator One"`) {
		t.Fatalf("whoami did not come from userinfo:\n%s\n%s", w.stdout, w.stderr)
	}
	// The backend accepts the session's token (opaque here: no resource was asked for).
	if doc := s.me(); doc["sub"] != "operator" || doc["dpop_bound"] != true {
		t.Fatalf("backend says %v", doc)
	}
	// Deny on the consent page: 17.
	_, r = userSession(t, o, "deny")
	if r.code != 17 {
		t.Fatalf("denied device sign-in exited %d, want 17\n%s", r.code, r.stderr)
	}
}

func interopBrowser(t *testing.T, o *op) {
	path := chromium(t)
	for _, tc := range []struct {
		button string
		code   int
	}{{"allow", 0}, {"deny", 17}} {
		// With the backend as Audience: the resource indicator must travel
		// on the authorization request and the code exchange (RFC 8707).
		s := o.session(t, "stella-cli", "STELLA_SCOPE=openid profile offline_access", "STELLA_AUDIENCE="+o.issuer+"/api")
		opener := filepath.Join(s.dir, "open-url")
		urlFile := filepath.Join(s.dir, "url")
		if err := os.WriteFile(opener, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" > \""+urlFile+"\"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, "STELLA_BROWSER="+opener)
		cmd := s.cmd("--timeout", "60s", "auth", "login", "--browser")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var start string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && start == ""; time.Sleep(20 * time.Millisecond) {
			if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
				start = strings.TrimSpace(string(b))
			}
		}
		if start == "" {
			_ = cmd.Process.Kill()
			t.Fatalf("stella opened no URL: %s", errb.String())
		}
		heading := chromiumSignIn(t, path, s.dir, o.issuer, start, tc.button)
		err := cmd.Wait()
		s.record([]string{"auth", "login", "--browser"}, out.String(), errb.String())
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code {
			t.Fatalf("%s: stella exited %d, want %d (page %q)\nstdout: %s\nstderr: %s", tc.button, code, tc.code, heading, out.String(), errb.String())
		}
		if tc.code != 0 {
			continue
		}
		if !strings.Contains(out.String(), "as Operator One (operator)") {
			t.Fatalf("browser sign-in said:\n%s", out.String())
		}
		if tok := s.ok("auth", "token").stdout; strings.Count(tok, ".") != 2 {
			t.Fatalf("with an Audience the access token should be a JWT, got %d bytes", len(tok))
		}
		if doc := s.me(); doc["sub"] != "operator" || doc["dpop_bound"] != true {
			t.Fatalf("backend says %v", doc)
		}
	}
}

// chromiumSignIn opens url in headless Chromium, signs in on the
// provider's login page, presses button on its consent page, and returns
// the heading of the page it lands on (stella's loopback answer).
func chromiumSignIn(t *testing.T, path, dir, issuer, start, button string) string {
	ctx, cancel := context.WithTimeout(startChromium(t, path, dir), 45*time.Second)
	defer cancel()
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(start),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "operator"),
		chromedp.SendKeys("#password", "operator-password"),
		chromedp.Click("#sign-in"),
		chromedp.WaitVisible("#" + button),
		chromedp.Click("#" + button),
	} {
		if _, err := chromedp.Run(ctx, step); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("browser step %d at %s: %v", i, loc, err)
		}
	}
	// The answer replaces the page: wait until it is stella's, not the provider's.
	var heading string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && !strings.HasPrefix(loc, issuer) {
			if h, err := chromedp.Run(ctx, chromedp.Text("body")); err == nil {
				heading = h
				break
			}
		}
	}
	return strings.TrimSpace(heading)
}

func interopRefresh(t *testing.T, o *op) {
	// A session whose access token lives 2 s, then let it expire.
	// With the backend as Audience (RFC 8707 resource), the provider issues
	// JWT access tokens carrying cnf.jkt, which the resource server checks.
	o.admin(http.MethodPost, "/admin/short-tokens?n=1")
	s, r := userSession(t, o, "allow", "STELLA_AUDIENCE="+o.issuer+"/api")
	if r.code != 0 {
		t.Fatalf("sign-in exited %d: %s", r.code, r.stderr)
	}
	time.Sleep(2500 * time.Millisecond)
	before := o.stats()
	// 16 processes at once: one refresh, no reuse, all succeed.
	callMeAtOnce(t, s, 16)
	if tok := s.ok("auth", "token").stdout; strings.Count(tok, ".") != 2 {
		t.Fatalf("with an Audience the access token should be a JWT, got %d bytes", len(tok))
	}
	after := o.stats()
	if n := after.Grants["refresh_token"] - before.Grants["refresh_token"]; n != 1 || after.Reuse != before.Reuse {
		t.Fatalf("refresh grants %d, reuse detected %d; want 1 and 0", n, after.Reuse-before.Reuse)
	}
}

// callMeAtOnce runs `stella api GET /api/v1/me` in n processes at once
// and fails the test unless every one answers as the operator.
func callMeAtOnce(t *testing.T, s *session, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.run("api", "GET", "/api/v1/me")
			if r.code != 0 || !strings.Contains(r.stdout, `"sub":"operator"`) {
				errs <- fmt.Sprintf("exit %d: %s %s", r.code, r.stdout, r.stderr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a parallel call failed: %s", e)
	}
}

func interopLogout(t *testing.T, o *op) {
	o.admin(http.MethodPost, "/admin/short-tokens?n=1")
	s, r := userSession(t, o, "allow")
	if r.code != 0 {
		t.Fatalf("sign-in exited %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(s.dir, "cfg", "tokens", "*.session"))
	if len(files) != 1 {
		t.Fatalf("%d session files", len(files))
	}
	saved, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	before := o.stats().Revocations
	out := s.ok("auth", "logout")
	if !strings.Contains(out.stdout, "revoked") || o.stats().Revocations <= before {
		t.Fatalf("logout did not revoke:\n%s\n%s", out.stdout, out.stderr)
	}
	if r := s.run("auth", "status"); r.code != 12 {
		t.Fatalf("status after logout exited %d", r.code)
	}
	// The revoked refresh token is dead: put the old session back and let
	// its 2 s access token expire; the refresh fails and stella says sign in.
	if err := os.WriteFile(files[0], saved, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if r := s.run("auth", "token"); r.code != 12 || !strings.Contains(r.stderr, "stella auth login") {
		t.Fatalf("refresh with a revoked token exited %d, want 12\n%s", r.code, r.stderr)
	}
}

// hardFlags configure the provider the way security-minded deployments do
// (issue #15): DPoP nonces required at the token endpoint and at the
// resource server, rotating DPoP-bound refresh tokens (oidc-provider binds
// a public client's refresh tokens to its DPoP key, and rotateRefreshToken
// is on), and access tokens that live 4 seconds.
var hardFlags = []string{"--require-dpop-nonce", "--access-ttl", "4"}

// interopHard: 16 processes facing one expired 4-second token make one
// refresh, and no token request is refused for its nonce — the nonce the
// sign-in learnt is kept with the session and sent by every later
// process's first request — as the provider's own log shows. Then, in
// steady state, neither the token endpoint nor the resource server
// refuses anything.
func interopHard(t *testing.T, o *op) {
	s, r := userSession(t, o, "allow", "STELLA_AUDIENCE="+o.issuer+"/api")
	if r.code != 0 {
		t.Fatalf("sign-in exited %d: %s", r.code, r.stderr)
	}
	time.Sleep(4500 * time.Millisecond)
	before, refusedBefore := o.stats(), o.refusedForNonce()
	callMeAtOnce(t, s, 16)
	after := o.stats()
	refused := o.refusedForNonce() - refusedBefore
	t.Logf("16 processes on an expired 4 s token: %d refresh grant(s), %d reuse(s), %d token request(s) refused for the nonce, %d backend nonce challenge(s)",
		after.Grants["refresh_token"]-before.Grants["refresh_token"], after.Reuse-before.Reuse, refused, after.BackendNonc-before.BackendNonc)
	if n := after.Grants["refresh_token"] - before.Grants["refresh_token"]; n != 1 || after.Reuse != before.Reuse {
		t.Fatalf("refresh grants %d, reuse detected %d; want 1 and 0", n, after.Reuse-before.Reuse)
	}
	if refused != 0 {
		t.Fatalf("the provider refused %d token requests for their DPoP nonce; want 0 (the session keeps it)", refused)
	}

	// Steady state: each later process refreshes its expired token with
	// the kept nonce and calls the backend with the backend's kept nonce.
	for i := range 2 {
		time.Sleep(4500 * time.Millisecond)
		before, refusedBefore = o.stats(), o.refusedForNonce()
		if doc := s.me(); doc["sub"] != "operator" {
			t.Fatalf("backend says %v", doc)
		}
		after = o.stats()
		if n := after.Grants["refresh_token"] - before.Grants["refresh_token"]; n != 1 {
			t.Fatalf("process %d: %d refresh grants, want 1", i, n)
		}
		if refused, bn := o.refusedForNonce()-refusedBefore, after.BackendNonc-before.BackendNonc; refused != 0 || bn != 0 {
			t.Fatalf("process %d: %d token requests and %d backend calls refused for their nonce; want 0 and 0", i, refused, bn)
		}
	}
}
