package testscripts

// Script commands that start, drive and question the development
// Authority, or call it as another client would.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stellaops/stella/tools/devauthority/authority"
)

// harnessClient is how the test harness itself talks to the development
// Authority: loopback only, trusting its self-signed -tls certificate, and
// presenting no client certificate.
var harnessClient = &http.Client{Timeout: 10 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// authority [flags] starts the development Authority in-process on
// 127.0.0.1:0 and sets AUTHORITY, STELLA_AUTHORITY_URL and
// STELLA_BACKEND_URL. Flags are those of `go run ./tools/devauthority`.
func cmdAuthority(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: authority [flags]")
	}
	fs := flag.NewFlagSet("authority", flag.ContinueOnError)
	cfg := authority.DefaultConfig()
	authority.BindFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("authority: %v", err)
	}
	cfg.Now = offsetClock{file: ts.Getenv("STELLA_TEST_CLOCK")}.Now // the scenario's clock (clock_test.go)
	srv, err := authority.New(cfg)
	ts.Check(err)
	issuer, err := srv.Start("127.0.0.1:0")
	ts.Check(err)
	st := stateOf(ts)
	st.mu.Lock()
	st.servers = append(st.servers, srv)
	st.mu.Unlock()
	ts.Defer(func() { _ = srv.Close() })
	ts.Setenv("AUTHORITY", issuer)
	ts.Setenv("STELLA_AUTHORITY_URL", issuer)
	ts.Setenv("STELLA_BACKEND_URL", issuer)
}

// authority-stop stops the Authority started last: the machine goes offline.
func cmdAuthorityStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: authority-stop")
	}
	st := stateOf(ts)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.servers) == 0 {
		ts.Fatalf("no authority started")
	}
	ts.Check(st.servers[len(st.servers)-1].Close())
}

// stats KEY N checks a counter of the Authority's /admin/stats, e.g.
// `stats grants.refresh_token 1`; `stats` alone prints the document.
func cmdStats(ts *testscript.TestScript, neg bool, args []string) {
	body := adminCall(ts, http.MethodGet, "/admin/stats", "")
	if len(args) == 0 {
		_, _ = ts.Stdout().Write(body)
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: stats [KEY N]")
	}
	var doc map[string]any
	ts.Check(json.Unmarshal(body, &doc))
	var cur any = doc
	for _, part := range strings.Split(args[0], ".") {
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	got := 0
	if f, ok := cur.(float64); ok {
		got = int(f)
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if (got == want) == neg {
		ts.Fatalf("stats %s = %d, want %s%d\n%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want, body)
	}
}

// waitfor-stat KEY N waits (up to 10 s) until the Authority's counter KEY
// reaches N, e.g. until a stream is open before interrupting stella.
func cmdWaitForStat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor-stat KEY N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var doc map[string]any
		if json.Unmarshal(adminCall(ts, http.MethodGet, "/admin/stats", ""), &doc) != nil {
			continue
		}
		var cur any = doc
		for _, part := range strings.Split(args[0], ".") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		if f, ok := cur.(float64); ok && int(f) >= want {
			return
		}
	}
	ts.Fatalf("waitfor-stat: %s never reached %d", args[0], want)
}

// admin METHOD PATH [JSON] calls an admin route of the Authority.
func cmdAdmin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: admin METHOD PATH [JSON]")
	}
	body := ""
	if len(args) > 2 {
		body = strings.Join(args[2:], " ")
	}
	_, _ = ts.Stdout().Write(adminCall(ts, args[0], args[1], body))
}

func adminCall(ts *testscript.TestScript, method, path, body string) []byte {
	base := ts.Getenv("AUTHORITY")
	if base == "" {
		ts.Fatalf("no authority started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	ts.Check(err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := harnessClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	if resp.StatusCode >= 300 {
		ts.Fatalf("%s %s: %s\n%s", method, path, resp.Status, b)
	}
	return b
}

// device approve|deny|expire acts on the latest device sign-in, waiting
// (bounded) for stella to have started one.
func cmdDevice(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: device approve|deny|expire")
	}
	body := map[string]string{"approve": `{"action":"approve"}`, "deny": `{"action":"deny"}`, "expire": `{"expire":true}`}[args[0]]
	if body == "" {
		ts.Fatalf("device: unknown action %q", args[0])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, ts.Getenv("AUTHORITY")+"/admin/device", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := harnessClient.Do(req)
		ts.Check(err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("device: no device sign-in started (%s)", resp.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bearer FILE PATH calls the backend with the token in FILE as a plain
// bearer token, as a thief would, and prints the status code.
func cmdBearer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bearer TOKENFILE PATH")
	}
	tok, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	status := rawCall(ts, http.MethodGet, args[1], http.Header{"Authorization": {"Bearer " + strings.TrimSpace(string(tok))}})
	fmt.Fprintln(ts.Stdout(), status)
}

// with-headers FILE METHOD PATH sends a request with the "Name: value"
// lines of FILE (as curl -H @file would) and prints the status code.
func cmdWithHeaders(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: with-headers FILE METHOD PATH")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			ts.Fatalf("bad header line %q", line)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	fmt.Fprintln(ts.Stdout(), rawCall(ts, args[1], args[2], h))
}

func rawCall(ts *testscript.TestScript, method, path string, h http.Header) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.Getenv("AUTHORITY")+path, nil)
	ts.Check(err)
	req.Header = h
	// A thief with the token but not the client certificate.
	resp, err := harnessClient.Do(req)
	ts.Check(err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// mix-headers A B OUT writes A's Authorization line and B's DPoP line to
// OUT: a token presented with a proof made by another key.
func cmdMixHeaders(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mix-headers A B OUT")
	}
	line := func(file, prefix string) string {
		b, err := os.ReadFile(ts.MkAbs(file))
		ts.Check(err)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		ts.Fatalf("%s has no %s line", file, prefix)
		return ""
	}
	out := line(args[0], "Authorization: ") + "\n" + line(args[1], "DPoP: ") + "\n"
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(out), 0o600))
}

// gencert NAME writes a self-signed client certificate and its key to
// $WORK/NAME.crt and $WORK/NAME.key (PEM).
func cmdGenCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gencert NAME")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: args[0]},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	kb, err := x509.MarshalECPrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
}

// closedport VAR sets VAR to a loopback URL nothing listens on.
func cmdClosedPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: closedport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	ts.Check(l.Close())
	ts.Setenv(args[0], "http://"+addr)
}

// proxy VAR starts an HTTP proxy that records every CONNECT target and
// refuses it (502), and sets VAR to its URL: proof that stella honours
// HTTPS_PROXY without a real network. proxy-saw HOST:PORT checks a target.
func cmdProxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: proxy VAR")
	}
	p := &recordingProxy{}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go func() { _ = srv.Serve(l) }()
	ts.Defer(func() { _ = srv.Close() })
	proxies.Store(ts, p)
	ts.Setenv(args[0], "http://"+l.Addr().String())
}

type recordingProxy struct {
	mu   sync.Mutex
	seen []string
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.Host)
	p.mu.Unlock()
	http.Error(w, "the test proxy refuses every tunnel", http.StatusBadGateway)
}

var proxies sync.Map

func cmdProxySaw(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: proxy-saw HOST:PORT")
	}
	v, ok := proxies.Load(ts)
	if !ok {
		ts.Fatalf("no proxy started")
	}
	p := v.(*recordingProxy)
	p.mu.Lock()
	defer p.mu.Unlock()
	saw := slices.Contains(p.seen, "CONNECT "+args[0])
	if saw == neg {
		ts.Fatalf("proxy saw %v, want CONNECT %s (negated: %v)", p.seen, args[0], neg)
	}
}
