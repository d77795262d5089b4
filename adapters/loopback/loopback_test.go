package loopback

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCallback(t *testing.T) {
	cases := []struct {
		name     string
		query    url.Values
		kind     domain.Kind
		page     string
		wantCode string
	}{
		{"code", url.Values{"state": {"S"}, "code": {"the-code"}, "iss": {"https://a"}}, 0, "Signed in", "the-code"},
		{"denied", url.Values{"state": {"S"}, "error": {"access_denied"}}, domain.KindAccessDenied, "Sign-in failed", ""},
		// One table with the token endpoint's errors (SPEC §3.7).
		{"invalid_scope", url.Values{"state": {"S"}, "error": {"invalid_scope"}, "error_description": {"bad\x1b[31m scope"}}, domain.KindForbidden, "Sign-in failed", ""},
		{"unauthorized_client", url.Values{"state": {"S"}, "error": {"unauthorized_client"}}, domain.KindUnauthorized, "Sign-in failed", ""},
		{"server_error", url.Values{"state": {"S"}, "error": {"server_error"}}, domain.KindServer, "Sign-in failed", ""},
		{"temporarily_unavailable", url.Values{"state": {"S"}, "error": {"temporarily_unavailable"}}, domain.KindServer, "Sign-in failed", ""},
		{"other error", url.Values{"state": {"S"}, "error": {"invalid_request"}, "error_description": {"bad\x1b[31m request"}}, domain.KindProtocol, "Sign-in failed", ""},
		{"neither", url.Values{"state": {"S"}}, domain.KindProtocol, "Sign-in failed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New().Listen(context.Background(), 0, "S")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !strings.HasPrefix(r.RedirectURI(), "http://127.0.0.1:") || !strings.HasSuffix(r.RedirectURI(), "/callback") {
				t.Fatalf("redirect URI %s", r.RedirectURI())
			}
			page := getAsync(r.RedirectURI() + "?" + tc.query.Encode())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := r.Wait(ctx)
			r.Finish(nil)
			if body := <-page; !strings.Contains(body, tc.page) {
				t.Fatalf("page %q", body)
			}
			if tc.kind != 0 {
				if domain.KindOf(err) != tc.kind || strings.Contains(err.Error(), "\x1b") {
					t.Fatalf("err %q kind %v", err, domain.KindOf(err))
				}
				return
			}
			if err != nil || resp.Code.Reveal() != tc.wantCode || resp.Issuer != "https://a" || !resp.IssuerPresent {
				t.Fatalf("resp %+v err %v", resp, err)
			}
		})
	}
}

// A wrong or missing state is answered with an error page and the listener
// keeps waiting for the genuine callback.
func TestWrongStateKeepsWaiting(t *testing.T) {
	r, err := New().Listen(context.Background(), 0, "genuine")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, q := range []string{"state=forged&code=evil", "code=evil", ""} {
		if status, body := get(t, r.RedirectURI()+"?"+q); status != http.StatusBadRequest || !strings.Contains(body, "does not belong") {
			t.Fatalf("%q: %d %s", q, status, body)
		}
	}
	if status, _ := get(t, strings.Replace(r.RedirectURI(), "/callback", "/other", 1)); status != http.StatusNotFound {
		t.Fatalf("other path: %d", status)
	}
	page := getAsync(r.RedirectURI() + "?state=genuine&code=good")
	resp, err := r.Wait(context.Background())
	if err != nil || resp.Code.Reveal() != "good" {
		t.Fatalf("%v %v", resp, err)
	}
	r.Finish(nil)
	<-page
	// Only the first valid callback counts.
	get(t, r.RedirectURI()+"?state=genuine&code=second")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx); domain.KindOf(err) != domain.KindTimeout {
		t.Fatalf("second callback produced %v", err)
	}
}

// getAsync fetches u in the background and delivers the body: a callback
// with a code is answered only when the terminal calls Finish.
func getAsync(u string) <-chan string {
	ch := make(chan string, 1)
	go func() {
		resp, err := http.Get(u)
		if err != nil {
			ch <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- string(b)
	}()
	return ch
}

// The page tells the truth: a code whose exchange or ID-token checks fail
// gets "Sign-in failed" with the reason (sanitised), never "Signed in".
func TestPageWaitsForTheOutcome(t *testing.T) {
	r, err := New().Listen(context.Background(), 0, "S")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	page := getAsync(r.RedirectURI() + "?state=S&code=c")
	if _, err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-page:
		t.Fatalf("answered before the outcome: %s", body)
	case <-time.After(100 * time.Millisecond):
	}
	r.Finish(domain.E(domain.KindProtocol, "the ID token's signature does not verify \u202e\x1b[2J", ""))
	body := <-page
	if !strings.Contains(body, "Sign-in failed") || strings.Contains(body, "Signed in") || !strings.Contains(body, "signature does not verify") ||
		strings.ContainsAny(body, "\u202e\x1b") {
		t.Fatalf("page %s", body)
	}
}

// The start address answers once, only at its unguessable path, and only
// to requests addressed to the listener itself.
func TestStartOnceOwnHostOnly(t *testing.T) {
	r, err := New().Listen(context.Background(), 0, "S")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetAuthorizationURL("https://authority.example/authorize?state=S")
	start := r.StartURL()
	if !strings.Contains(start, "/start/") || len(start) < len("http://127.0.0.1:1/start/")+32 {
		t.Fatalf("start URL %s", start)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(u, host string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	base := strings.TrimSuffix(r.RedirectURI(), "/callback")
	if resp := do(base+"/", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/ answered %d", resp.StatusCode)
	}
	if resp := do(start, "evil.example"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host answered %d", resp.StatusCode)
	}
	if resp := do(start, ""); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://authority.example/") {
		t.Fatalf("first start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := do(start, ""); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
		t.Fatalf("second start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestTimeoutAndInterrupt(t *testing.T) {
	r, err := New().Listen(context.Background(), 0, "S")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx); domain.KindOf(err) != domain.KindTimeout || domain.ExitCodeFor(err) != 16 {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := r.Wait(ctx); domain.ExitCodeFor(err) != 130 {
		t.Fatalf("interrupt: %v", err)
	}
}

func TestFixedPortInUse(t *testing.T) {
	r, err := New().Listen(context.Background(), 0, "S")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	port := r.(*Listener).Port()
	if _, err := New().Listen(context.Background(), port, "S"); domain.KindOf(err) != domain.KindUsage {
		t.Fatalf("port in use: %v", err)
	}
}
