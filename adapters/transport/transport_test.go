package transport

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

type staticTokens struct {
	token   atomic.Value // string
	renewed atomic.Int32
	fail    error
}

func newTokens(v string) *staticTokens {
	t := &staticTokens{}
	t.token.Store(v)
	return t
}

func (s *staticTokens) cred() domain.Credential {
	return domain.Credential{Access: domain.Token{Value: domain.NewSecret(s.token.Load().(string)), Type: domain.TokenTypeBearer}}
}

func (s *staticTokens) Credential(context.Context) (domain.Credential, error) {
	if s.fail != nil {
		return domain.Credential{}, s.fail
	}
	return s.cred(), nil
}

func (s *staticTokens) Renew(context.Context, domain.Credential) (domain.Credential, error) {
	s.renewed.Add(1)
	s.token.Store("renewed")
	return s.cred(), nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func settingsFor(url string) domain.Settings {
	return domain.Settings{BackendURL: url, RequestTimeout: 5 * time.Second}
}

func newBackend(url string, tokens ports.TokenSource) *Backend {
	s := settingsFor(url)
	base := NewBase(s, domain.BuildInfo{Version: "test", GOOS: "linux", GOARCH: "amd64"}, osFiles{}, quiet())
	return NewBackend(s, NewAuthenticated(base, tokens, schemeHeaders{}, nil, quiet()), domain.BuildInfo{Version: "test", GOOS: "linux", GOARCH: "amd64"})
}

// schemeHeaders stands in for the DPoP adapter's credential headers (which
// adapters' tests cannot import): Authorization in the token's scheme.
type schemeHeaders struct{}

func (schemeHeaders) Headers(cred domain.Credential, _, _ string) ([]ports.CredentialHeader, error) {
	return []ports.CredentialHeader{{Name: "Authorization", Value: domain.NewSecret(cred.Access.Type + " " + cred.Access.Value.Reveal())}}, nil
}

func (h schemeHeaders) Transport(base http.RoundTripper, cred domain.Credential) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		hs, _ := h.Headers(cred, req.Method, req.URL.String())
		out := req.Clone(req.Context())
		for _, c := range hs {
			out.Header.Set(c.Name, c.Value.Reveal())
		}
		return base.RoundTrip(out)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAttachesTokenAndUserAgent(t *testing.T) {
	var auth, ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, ua = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
	}))
	defer srv.Close()
	resp, err := newBackend(srv.URL, newTokens("t1")).Do(context.Background(), ports.BackendRequest{Method: "GET", Path: "/api/v1/me"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auth != "Bearer t1" || ua != "stella/test (linux/amd64)" {
		t.Fatalf("Authorization %q, User-Agent %q", auth, ua)
	}
}

// On a 401 the token is renewed once and the request, body included, is
// sent once more; a second 401 is returned as is.
func TestRetryOnceOn401(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fails     int32
		want      int
		wantCalls int32
	}{
		{"recovers", 1, 200, 2},
		{"gives up after one retry", 5, 401, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b)+"|"+r.Header.Get("Authorization"))
				if n <= tc.fails {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			defer srv.Close()
			tokens := newTokens("stale")
			resp, err := newBackend(srv.URL, tokens).Do(context.Background(),
				ports.BackendRequest{Method: "POST", Path: "/x", Body: strings.NewReader(`{"a":1}`)})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Status != tc.want || calls.Load() != tc.wantCalls || tokens.renewed.Load() != 1 {
				t.Fatalf("status %d calls %d renewed %d", resp.Status, calls.Load(), tokens.renewed.Load())
			}
			if bodies[1] != `{"a":1}|Bearer renewed` {
				t.Fatalf("retry sent %q", bodies[1])
			}
		})
	}
}

// A redirect to another origin is not followed: the token would go along.
func TestNoCrossOriginRedirect(t *testing.T) {
	var leaked atomic.Bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer evil.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	resp, err := newBackend(srv.URL, newTokens("t")).Do(context.Background(), ports.BackendRequest{Method: "GET", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if leaked.Load() || resp.Status != http.StatusFound {
		t.Fatalf("followed: status %d, leaked %v", resp.Status, leaked.Load())
	}
}

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	cases := []struct {
		name   string
		url    string
		path   string
		tokens *staticTokens
		kind   domain.Kind
		msg    string
	}{
		{"backend down", url, "/x", newTokens("t"), domain.KindUnreachable, "connection refused by the backend at 127.0.0.1"},
		{"absolute URL refused", url, "https://evil.example.com/x", newTokens("t"), domain.KindUsage, "is not a path"},
		{"token source error kept", "http://127.0.0.1:9", "/x", &staticTokens{fail: domain.E(domain.KindLoginRequired, "not signed in", "")},
			domain.KindLoginRequired, "not signed in"},
		{"plain http to a remote host refused", "http://backend.example.com", "/x", newTokens("t"), domain.KindUsage, "plain http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newBackend(tc.url, tc.tokens).Do(context.Background(), ports.BackendRequest{Method: "GET", Path: tc.path})
			if domain.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v (kind %v), want %v containing %q", err, domain.KindOf(err), tc.kind, tc.msg)
			}
		})
	}
}

// osFiles reads files plainly; the bounded read is the config adapter's
// (config.Files), which adapters' tests cannot import.
type osFiles struct{}

func (osFiles) Read(path string, _ int64) ([]byte, error) { return os.ReadFile(path) }

// refusing answers every read with one refusal.
type refusing struct{ err error }

func (r refusing) Read(string, int64) ([]byte, error) { return nil, r.err }

// The reader says why a file was refused; the transport words it, naming
// the file and the setting's source (SPEC: errors keep their provenance).
func TestLocalFileErrors(t *testing.T) {
	from := []domain.Setting{{Key: "Authority.CaBundleFile", Source: domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_CA_BUNDLE"}}}
	for _, tc := range []struct {
		name  string
		mtls  bool
		files ports.RegularFiles
		want  string
	}{
		{"missing bundle", false, osFiles{}, "CA bundle /nowhere/ca.pem (from env STELLA_CA_BUNDLE) cannot be read: open /nowhere/ca.pem: no such file or directory"},
		{"bundle is a FIFO", false, refusing{ports.NotRegularFile{What: "a named pipe (FIFO)"}}, "CA bundle /nowhere/ca.pem (from env STELLA_CA_BUNDLE) is a named pipe (FIFO), not a regular file"},
		{"bundle too large", false, refusing{ports.ErrFileTooLarge}, "CA bundle /nowhere/ca.pem (from env STELLA_CA_BUNDLE) is larger than 4 MiB"},
		{"certificate is a device", true, refusing{ports.NotRegularFile{What: "a character device"}}, "cannot load the client certificate /c.pem and key /k.pem: /c.pem is a character device, not a regular file"},
		{"certificate too large", true, refusing{ports.ErrFileTooLarge}, "cannot load the client certificate /c.pem and key /k.pem: /c.pem is larger than 4 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settingsFor("https://127.0.0.1:1")
			if tc.mtls {
				s.AuthMode, s.ClientCertFile, s.ClientKeyFile = domain.AuthModeMTLS, "/c.pem", "/k.pem"
			} else {
				s.CABundleFile, s.Effective = "/nowhere/ca.pem", from
			}
			req, _ := http.NewRequest("GET", "https://127.0.0.1:1/", nil)
			_, err := NewBase(s, domain.BuildInfo{}, tc.files, quiet()).RoundTrip(req)
			if domain.KindOf(err) != domain.KindUsage || err.Error() != tc.want {
				t.Fatalf("err %q (kind %v), want %q", err, domain.KindOf(err), tc.want)
			}
		})
	}
}

// BenchmarkTransport compares an authenticated GET through the transport
// with a plain http.Client GET against the same loopback server.
func BenchmarkTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	ctx := context.Background()
	b.Run("plain-http-client", func(b *testing.B) {
		c := &http.Client{}
		for b.Loop() {
			resp, err := c.Get(srv.URL + "/api/v1/me")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("stella-bearer", func(b *testing.B) {
		be := newBackend(srv.URL, newTokens("t"))
		for b.Loop() {
			resp, err := be.Do(ctx, ports.BackendRequest{Method: "GET", Path: "/api/v1/me"})
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
