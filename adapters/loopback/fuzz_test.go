package loopback

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stellaops/stella/domain"
)

// FuzzCallback sends any query to the redirect handler: a wrong state never
// ends the wait, and whatever ends it is a code or a classified error with
// printable text.
func FuzzCallback(f *testing.F) {
	for _, q := range []string{"state=S&code=c&iss=https://a", "state=S&error=access_denied", "state=S&error=%1b%5b31m&error_description=%00x",
		"state=T&code=c", "code=c", "state=S&state=T&code=c", "state=S", "%zz", "state=S&error=" + strings.Repeat("e", 5000)} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		done := make(chan struct{})
		close(done) // the terminal has finished: the page is answered at once
		l := &Listener{state: "S", results: make(chan result, 1), finished: done}
		rec := httptest.NewRecorder()
		l.callback(rec, &http.Request{Method: http.MethodGet, URL: mustURL(rawQuery)})
		select {
		case res := <-l.results:
			if res.err == nil && res.resp.Code.IsZero() {
				t.Fatal("the wait ended with neither a code nor an error")
			}
			if res.err != nil {
				if domain.KindOf(res.err) != domain.KindAccessDenied && domain.KindOf(res.err) != domain.KindProtocol {
					t.Fatalf("kind %v: %v", domain.KindOf(res.err), res.err)
				}
				if strings.ContainsAny(res.err.Error(), "\x00\x1b\n") {
					t.Fatalf("unprintable error text %q", res.err.Error())
				}
			}
		default:
			if rec.Code == http.StatusOK {
				t.Fatal("a 200 page without ending the wait")
			}
		}
	})
}

func mustURL(rawQuery string) *url.URL {
	return &url.URL{Path: "/callback", RawQuery: rawQuery}
}
