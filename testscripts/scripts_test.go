package testscripts

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

// TestMain builds the real binary once, then lets testscript run the test
// binary itself as `stella`: that stand-in execs the real binary and keeps
// a copy of everything it printed, for the secret-leak check.
func TestMain(m *testing.M) {
	if commands[filepath.Base(os.Args[0])] != nil {
		//lint:ignore SA1019 RunMain returns the code, so a stand-in exits with its program's.
		os.Exit(testscript.RunMain(m, commands))
	}
	// testscript's Main always ends with os.Exit, so nothing here runs
	// after the scripts: the binary lives at one fixed place per user and
	// is replaced (atomically) by each run instead of piling up.
	// One place per user and checkout: two checkouts tested at once (git
	// worktrees, two CI jobs) must not replace each other's binary mid-run.
	wd, _ := os.Getwd()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("stella-testscripts-%d-%x", os.Getuid(), sha256.Sum256([]byte(wd))))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	name := "stella-real"
	args := []string{"build"}
	if os.Getenv("STELLA_TEST_RACE") != "" {
		args, name = append(args, "-race"), "stella-real-race"
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s-%d", name, os.Getpid()))
	build := exec.Command("go", append(args, "-o", tmp, "github.com/stellaops/stella/cmd/stella")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building stella:", err)
		os.Exit(1)
	}
	realBinary = filepath.Join(dir, name)
	if err := os.Rename(tmp, realBinary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// stella api --jq starts stella-jq from next to the real binary.
	jqTmp := filepath.Join(dir, fmt.Sprintf(".stella-jq-%d", os.Getpid()))
	jq := exec.Command("go", append(args, "-o", jqTmp, "github.com/stellaops/stella/cmd/stella-jq")...)
	jq.Stdout, jq.Stderr = os.Stderr, os.Stderr
	if err := jq.Run(); err != nil || os.Rename(jqTmp, filepath.Join(dir, "stella-jq")) != nil {
		fmt.Fprintln(os.Stderr, "building stella-jq:", err)
		os.Exit(1)
	}
	//lint:ignore SA1019 RunMain's code is the test binary's exit code.
	os.Exit(testscript.RunMain(m, commands))
}

var realBinary string

// harnessClient is how the test harness itself talks to the development
// Authority: loopback only, trusting its self-signed -tls certificate, and
// presenting no client certificate.
var harnessClient = &http.Client{Timeout: 10 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// commands are the programs scripts can exec besides testscript's own.
var commands = map[string]func() int{"stella": recordingStella, "fakebrowser": fakeBrowser,
	"insession": inSession, "nokeyring": noKeyring}

// recordingStella runs the real binary with the same arguments, stdin and
// environment, and exits with its code. Every call runs with -v -v so the
// leak check sees the most verbose logs stella can write; unless the script
// itself asked for -v, the debug lines are kept out of what the script sees,
// so its assertions are about the default output.
func recordingStella() int {
	bin, record := os.Getenv("STELLA_TEST_REAL_BINARY"), os.Getenv("STELLA_TEST_RECORD")
	args := os.Args[1:]
	asked := slices.ContainsFunc(args, func(a string) bool { return a == "-v" || a == "-vv" || a == "--verbose" })
	run := args
	if !asked {
		run = append([]string{"-v", "-v"}, args...)
	}
	cmd := exec.Command(bin, run...)
	var out, errb bytes.Buffer
	cmd.Stdin = os.Stdin
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = &errb
	// In the scenario's own session keyring (keyring_linux_test.go).
	joinScenarioKeyring()
	// Pass Ctrl-C and termination on to stella, as a shell would.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "stella test wrapper:", err)
		return 1
	}
	// STELLA_TEST_PIDFILE: where a script finds this stella to send it a
	// signal testscript's kill does not know (SIGTERM).
	if p := os.Getenv("STELLA_TEST_PIDFILE"); p != "" {
		_ = os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err := cmd.Wait()
	recordCachedKeys()
	if asked {
		_, _ = os.Stderr.Write(errb.Bytes())
	} else {
		_, _ = io.WriteString(os.Stderr, quiet(errb.String()))
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "stella test wrapper:", err)
		return 1
	}
	if record != "" {
		entry, _ := json.Marshal(recorded{Args: run, Stdout: out.String(), Stderr: errb.String(), Code: code})
		if f, err := os.OpenFile(record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			_, _ = f.Write(append(entry, '\n'))
			_ = f.Close()
		}
	}
	return code
}

// verboseLine is a log line as -v writes it: a timestamp, then the level.
var verboseLine = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} (debug|warning|error): `)

// quiet turns -v -v stderr back into what stella prints without -v: debug
// lines dropped, the timestamp taken off warnings.
func quiet(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		m := verboseLine.FindStringSubmatch(line)
		switch {
		case m == nil:
			b.WriteString(line)
		case m[1] != "debug":
			b.WriteString(line[len("15:04:05.000 "):])
		}
	}
	return b.String()
}

type recorded struct {
	Args   []string `json:"args"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
	Code   int      `json:"code"`
}

func TestScripts(t *testing.T) {
	testscript.Run(t, params("testdata"))
}

func params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring": // the kernel lets processes keep keys (the key cache)
				return kernelKeyrings(), nil
			case "root": // another uid can be tried (setpriv --reuid)
				return os.Geteuid() == 0, nil
			case "redis":
				return redisInstalled()
			case "keychain":
				return keychainUsable()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// The keychain scenarios talk to the test process's Secret
			// Service (scripts/with-keyring.sh starts a private one).
			for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
				if val, ok := os.LookupEnv(v); ok {
					env.Setenv(v, val)
				}
			}
			// Every cache and config under $WORK: scripts never touch the
			// user's real files or each other's.
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("STELLA_CONFIG_DIR", filepath.Join(env.WorkDir, "cfg"))
			env.Setenv("STELLA_TEST_REAL_BINARY", realBinary)
			env.Setenv("STELLA_TEST_RECORD", filepath.Join(env.WorkDir, ".stella-record.jsonl"))
			env.Setenv("STELLA_TEST_KEYS_RECORD", filepath.Join(env.WorkDir, ".stella-keys"))
			env.Setenv("NO_COLOR", "1")
			st := &scriptState{t: env.T(), workDir: env.WorkDir}
			env.Values[stateKey{}] = st
			env.Defer(func() { leakCheck(st) })
			env.Defer(func() { jsonCheck(st) })
			setupKeyring(env)
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
		},
		Cmds: withFleetCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"authority":          cmdAuthority,
			"exits":              cmdExits,
			"stats":              cmdStats,
			"admin":              cmdAdmin,
			"closedport":         cmdClosedPort,
			"perm":               cmdPerm,
			"cp-session":         cmdCopySession,
			"bearer":             cmdBearer,
			"with-headers":       cmdWithHeaders,
			"device":             cmdDevice,
			"lastexit":           cmdLastExit,
			"mix-headers":        cmdMixHeaders,
			"gencert":            cmdGenCert,
			"waitfor":            cmdWaitFor,
			"same-session":       cmdSameSession,
			"flip-session":       cmdFlipSession,
			"hungbus":            cmdHungBus,
			"keychain-item":      cmdKeychainItem,
			"sessions":           cmdSessions,
			"proxy":              cmdProxy,
			"proxy-saw":          cmdProxySaw,
			"waitfor-stat":       cmdWaitForStat,
			"authority-stop":     cmdAuthorityStop,
			"put-session":        cmdPutSession,
			"corrupt-files":      cmdCorruptFiles,
			"hungbus-calls":      cmdHungBusCalls,
			"sleepysecrets":      cmdSleepySecrets,
			"busmon":             cmdBusMon,
			"keycount":           cmdKeyCount,
			"keyid":              cmdKeyID,
			"corrupt-cached-key": cmdCorruptCachedKey,
			"tmpfs":              cmdTmpfs,
			"jsondoc":            cmdJSONDoc,
		}),
	}
}

// scriptState remembers, per script, the Authorities it started and where
// its files are, for the leak check that runs when the script ends.
type scriptState struct {
	t       testscript.T
	workDir string

	mu      sync.Mutex
	ts      *testscript.TestScript
	servers []*authority.Server
	redis   *redisState // the fleet scenarios' redis-servers (fleet_test.go)
}

type stateKey struct{}

func stateOf(ts *testscript.TestScript) *scriptState {
	st := ts.Value(stateKey{}).(*scriptState)
	st.mu.Lock()
	st.ts = ts
	st.mu.Unlock()
	return st
}

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

// exits N command [args] runs a program and checks its exact exit code,
// keeping stdout and stderr for the assertions that follow.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
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

// perm MODE PATH checks a file's permission bits, e.g. `perm 0600 cfg/tokens/x`.
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm MODE PATH")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	matches, err := filepath.Glob(ts.MkAbs(args[1]))
	ts.Check(err)
	if len(matches) == 0 {
		ts.Fatalf("perm: nothing matches %s", args[1])
	}
	for _, m := range matches {
		st, err := os.Stat(m)
		ts.Check(err)
		if got := uint64(st.Mode().Perm()); (got == want) == neg {
			ts.Fatalf("perm: %s has mode %#o, want %#o", m, got, want)
		}
	}
}

// leakCheck fails the script if any secret the Authority issued or received
// appears — plain, base64 or URL-encoded — in anything stella printed or in
// any file under the token cache, except the token printed on purpose by
// `auth token` / `auth header` on stdout.
func leakCheck(st *scriptState) {
	st.mu.Lock()
	secrets := authority.StaticSecrets()
	for _, s := range st.servers {
		secrets = append(secrets, s.Secrets()...)
	}
	if st.ts != nil {
		if p := st.ts.Getenv("STELLA_CACHE_PASSPHRASE"); p != "" {
			secrets = append(secrets, p)
		}
	}
	// The keys the kernel key cache held (keyring_linux_test.go).
	secrets = append(secrets, cachedKeySecrets(st.workDir)...)
	st.mu.Unlock()
	var haystacks []struct{ where, text string }
	add := func(where, text string) { haystacks = append(haystacks, struct{ where, text string }{where, text}) }

	if b, err := os.ReadFile(filepath.Join(st.workDir, ".stella-record.jsonl")); err == nil {
		for i, line := range bytes.Split(b, []byte("\n")) {
			var r recorded
			if json.Unmarshal(line, &r) != nil {
				continue
			}
			cmd := strings.Join(r.Args, " ")
			if !printsTokenOnPurpose(r.Args) {
				add(fmt.Sprintf("stdout of call %d (stella %s)", i+1, cmd), r.Stdout)
			}
			add(fmt.Sprintf("stderr of call %d (stella %s)", i+1, cmd), r.Stderr)
		}
	}
	cache := filepath.Join(st.workDir, "cfg", "tokens")
	_ = filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil {
				add(p, string(b))
			}
		}
		return nil
	})
	var found []string
	for _, s := range secrets {
		// The development user's password is its user name, which stella
		// rightly prints; and very short values cannot be told from words.
		if len(s) < 8 || s == "operator" {
			continue
		}
		for _, form := range encodings(s) {
			for _, h := range haystacks {
				if strings.Contains(h.text, form) {
					found = append(found, fmt.Sprintf("a secret (%d chars, starting %.4q) appears in %s", len(s), s, h.where))
				}
			}
		}
	}
	sort.Strings(found)
	if len(found) > 0 {
		st.t.Log("FAIL: secret leak:\n" + strings.Join(found, "\n"))
		st.t.FailNow()
	}
}

func encodings(s string) []string {
	return []string{
		s,
		base64.StdEncoding.EncodeToString([]byte(s)),
		base64.RawURLEncoding.EncodeToString([]byte(s)),
		url.QueryEscape(s),
	}
}

func printsTokenOnPurpose(args []string) bool {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	j := strings.Join(words, " ")
	return strings.Contains(j, "auth token") || strings.Contains(j, "auth header")
}

// theSession returns the one session file of the script's token cache.
func theSession(ts *testscript.TestScript) string {
	matches, err := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session"))
	ts.Check(err)
	if len(matches) != 1 {
		ts.Fatalf("want exactly one session file, found %d", len(matches))
	}
	return matches[0]
}

// cp-session NAME copies the session file to $WORK/NAME.
func cmdCopySession(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: cp-session NAME")
	}
	b, err := os.ReadFile(theSession(ts))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// same-session NAME checks the session file is byte-for-byte $WORK/NAME.
func cmdSameSession(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: same-session NAME")
	}
	got, err := os.ReadFile(theSession(ts))
	ts.Check(err)
	want, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if bytes.Equal(got, want) == neg {
		ts.Fatalf("session file changed: %v", !bytes.Equal(got, want))
	}
}

// flip-session flips one bit of the session file's last byte (ciphertext).
func cmdFlipSession(ts *testscript.TestScript, neg bool, args []string) {
	p := theSession(ts)
	b, err := os.ReadFile(p)
	ts.Check(err)
	b[len(b)-1] ^= 0x01
	ts.Check(os.WriteFile(p, b, 0o600))
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

// fakeBrowser stands in for a person with a browser, for the scenarios
// (the real browser suite uses Chromium): it follows the sign-in URL and,
// on the consent page, signs in as operator and presses the button named
// by $FAKEBROWSER (approve or deny). With FAKEBROWSER=forge it first sends
// the listener a callback with a forged state. With FAKEBROWSER_PAGE=FILE
// it writes the heading and text of the page it lands on to FILE; with
// FAKEBROWSER_PROBE=FILE it first plays another local user — the start
// address with a foreign Host, then (after the sign-in has begun) the start
// address again and / — and writes each status to FILE.
func fakeBrowser() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		return 2
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	start, _ := url.Parse(os.Args[1])
	action := os.Getenv("FAKEBROWSER")
	if action == "forge" {
		if resp, err := c.Get(start.Scheme + "://" + start.Host + "/callback?state=forged&code=stolen"); err == nil {
			resp.Body.Close()
		}
		action = "approve"
	}
	var probes []string
	probe := func(name, u, host string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if host != "" {
			req.Host = host
		}
		noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			probes = append(probes, name+" error")
			return
		}
		resp.Body.Close()
		probes = append(probes, fmt.Sprintf("%s %d %s", name, resp.StatusCode, resp.Header.Get("Location")))
	}
	probeFile := os.Getenv("FAKEBROWSER_PROBE")
	if probeFile != "" {
		probe("foreign-host", os.Args[1], "evil.example:"+start.Port())
	}
	landed := func(body []byte) { // the page last: scripts wait for it
		if probeFile != "" {
			_ = os.WriteFile(probeFile, []byte(strings.Join(probes, "\n")+"\n"), 0o600)
		}
		if f := os.Getenv("FAKEBROWSER_PAGE"); f != "" {
			text := regexp.MustCompile(`<[^>]+>`).ReplaceAll(regexp.MustCompile(`(?s)<head>.*</head>`).ReplaceAll(body, nil), []byte(" "))
			_ = os.WriteFile(f, bytes.Join(bytes.Fields(text), []byte(" ")), 0o600)
		}
	}
	resp, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if probeFile != "" {
		probe("second-start", os.Args[1], "")
		probe("root", start.Scheme+"://"+start.Host+"/", "")
	}
	m := regexp.MustCompile(`name="request" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		landed(body)
		return 0 // auto-approved: the callback page was reached
	}
	form := url.Values{"request": {string(m[1])}, "action": {action}, "username": {"operator"}, "password": {"operator"}}
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/authorize", form)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	landed(body)
	return 0
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

// lastexit CODE checks the exit code of the last stella call, for calls
// run in the background (`exec stella ... &`).
func cmdLastExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lastexit CODE")
	}
	b, err := os.ReadFile(ts.MkAbs(".stella-record.jsonl"))
	ts.Check(err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var r recorded
	ts.Check(json.Unmarshal([]byte(lines[len(lines)-1]), &r))
	if strconv.Itoa(r.Code) != args[0] {
		ts.Fatalf("last stella exited %d, want %s", r.Code, args[0])
	}
}

// waitfor PATH waits (bounded) until a file exists, e.g. a lock a
// background stella has taken.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfor GLOB")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, _ := filepath.Glob(ts.MkAbs(args[0])); len(m) > 0 {
			return
		}
	}
	ts.Fatalf("waitfor: %s never appeared", args[0])
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

// hungbus PATH listens on a Unix socket that accepts connections and never
// answers: a D-Bus daemon that hangs. hungbus-calls PATH N checks how many
// connections it has taken.
func cmdHungBus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hungbus PATH")
	}
	l, err := net.Listen("unix", ts.MkAbs(args[0]))
	ts.Check(err)
	hb := &hungBus{}
	hungBuses.Store(ts.MkAbs(args[0]), hb)
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hb.mu.Lock()
			hb.calls++
			conns = append(conns, c)
			hb.mu.Unlock()
		}
	}()
	ts.Defer(func() {
		_ = l.Close()
		hb.mu.Lock()
		defer hb.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
}

type hungBus struct {
	mu    sync.Mutex
	calls int
}

var hungBuses sync.Map

func cmdHungBusCalls(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: hungbus-calls PATH N")
	}
	v, ok := hungBuses.Load(ts.MkAbs(args[0]))
	if !ok {
		ts.Fatalf("no hungbus at %s", args[0])
	}
	hb := v.(*hungBus)
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	hb.mu.Lock()
	got := hb.calls
	hb.mu.Unlock()
	if (got == want) == neg {
		ts.Fatalf("hungbus took %d connections, want %d", got, want)
	}
}

// keychainUsable reports whether a Secret Service answers on this
// process's session bus. With STELLA_TEST_KEYCHAIN=require (CI) a missing
// one is an error, so the keychain scenarios cannot silently skip.
func keychainUsable() (bool, error) {
	keychainOnce.Do(func() {
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			keychainWhy = "DBUS_SESSION_BUS_ADDRESS is not set"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "secret-tool", "lookup", "service", "stella-test-probe", "username", "none")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err == nil || (errors.As(err, &ee) && ee.ExitCode() == 1 && errb.Len() == 0) {
			keychainOK = true
			return
		}
		keychainWhy = fmt.Sprintf("secret-tool: %v %s", err, strings.TrimSpace(errb.String()))
	})
	if !keychainOK && os.Getenv("STELLA_TEST_KEYCHAIN") == "require" {
		return false, fmt.Errorf("STELLA_TEST_KEYCHAIN=require but no Secret Service answers: %s", keychainWhy)
	}
	return keychainOK, nil
}

var (
	keychainOnce sync.Once
	keychainOK   bool
	keychainWhy  string
)

// keychain-item checks that the OS keychain holds the data key of the
// script's one session (service "stella", account the session file's
// name). When the file is gone (after logout) it checks the account seen
// last. It never prints the key.
func cmdKeychainItem(ts *testscript.TestScript, neg bool, args []string) {
	if matches, _ := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session")); len(matches) == 1 {
		ts.Setenv("KEYCHAIN_ACCOUNT", strings.TrimSuffix(filepath.Base(matches[0]), ".session"))
	}
	account := ts.Getenv("KEYCHAIN_ACCOUNT")
	if account == "" {
		ts.Fatalf("keychain-item: no session seen yet")
	}
	cmd := exec.Command("secret-tool", "lookup", "service", "stella", "username", account)
	cmd.Env = []string{"DBUS_SESSION_BUS_ADDRESS=" + ts.Getenv("DBUS_SESSION_BUS_ADDRESS")}
	out, err := cmd.Output()
	found := err == nil && len(out) > 0
	if found == neg {
		ts.Fatalf("keychain item for %s: found=%v, want %v", account, found, !neg)
	}
	if found && len(bytes.TrimSpace(out)) != 43 {
		ts.Fatalf("keychain item for %s is %d bytes, want a 43-character data key", account, len(bytes.TrimSpace(out)))
	}
}

// busmon start|stop records the calls made to the Secret Service in
// between (dbus-monitor) into busmon.log, one line per call, so a script
// can count them: `busmon start`, a command, `busmon stop`, then
// `grep -count=1 'member=GetSecret$' busmon.log`. Each end is marked by a
// Ping the monitor must have seen, so nothing is cut off either side.
func cmdBusMon(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "start" && args[0] != "stop") {
		ts.Fatalf("usage: busmon start|stop")
	}
	bus := ts.Getenv("DBUS_SESSION_BUS_ADDRESS")
	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + bus, "PATH=" + os.Getenv("PATH")}
	raw := ts.MkAbs(".busmon.raw")
	pings := func() int {
		b, _ := os.ReadFile(raw)
		return strings.Count(string(b), "member=Ping")
	}
	ping := func() {
		cmd := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
			"/org/freedesktop/secrets", "org.freedesktop.DBus.Peer.Ping")
		cmd.Env = env
		ts.Check(cmd.Run())
	}
	if args[0] == "start" {
		f, err := os.Create(raw)
		ts.Check(err)
		cmd := exec.Command("dbus-monitor", "--session", "type='method_call',destination='org.freedesktop.secrets'")
		cmd.Env, cmd.Stdout = env, f
		ts.Check(cmd.Start())
		ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = f.Close() })
		busMonitors.Store(raw, cmd)
		// The monitor takes a moment to attach: ping until it reports one.
		for deadline := time.Now().Add(10 * time.Second); pings() == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				ts.Fatalf("busmon: dbus-monitor saw nothing")
			}
			ping()
		}
		b, _ := os.ReadFile(raw)
		ts.Setenv("BUSMON_FROM", strconv.Itoa(len(b)))
		return
	}
	v, ok := busMonitors.LoadAndDelete(raw)
	if !ok {
		ts.Fatalf("busmon stop without start")
	}
	// Calls arrive in order: once the monitor shows this Ping, it has
	// shown every call made before it.
	before := pings()
	ping()
	for deadline := time.Now().Add(10 * time.Second); pings() <= before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			ts.Fatalf("busmon: dbus-monitor did not see the closing marker")
		}
	}
	cmd := v.(*exec.Cmd)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	b, err := os.ReadFile(raw)
	ts.Check(err)
	from, _ := strconv.Atoi(ts.Getenv("BUSMON_FROM"))
	var calls []string
	for _, line := range strings.Split(string(b[from:]), "\n") {
		if strings.HasPrefix(line, "method call") && !strings.Contains(line, "member=Ping") {
			calls = append(calls, line)
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs("busmon.log"), []byte(strings.Join(calls, "\n")+"\n"), 0o600))
}

var busMonitors sync.Map

// sessions N checks how many session files the token cache holds, and that
// no temporary file was left behind.
func cmdSessions(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sessions N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	entries, _ := os.ReadDir(filepath.Join(ts.MkAbs("cfg"), "tokens"))
	got := 0
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".session"):
			got++
		case strings.Contains(e.Name(), ".tmp"):
			ts.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
	if got != want {
		ts.Fatalf("%d session files, want %d", got, want)
	}
}

// put-session NAME writes $WORK/NAME over the one session file.
func cmdPutSession(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: put-session NAME")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(theSession(ts), b, 0o600))
}

// corrupt-files N [NAME] checks that N files were moved aside as
// *.corrupt-<time>, and, with NAME, that one of them is byte for byte
// $WORK/NAME: moved, never rewritten or deleted.
func cmdCorruptFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: corrupt-files N [NAME]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	matches, err := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session.corrupt-*"))
	ts.Check(err)
	if len(matches) != want {
		ts.Fatalf("%d files moved aside, want %d", len(matches), want)
	}
	if len(args) == 2 {
		orig, err := os.ReadFile(ts.MkAbs(args[1]))
		ts.Check(err)
		for _, m := range matches {
			if b, _ := os.ReadFile(m); bytes.Equal(b, orig) {
				return
			}
		}
		ts.Fatalf("no moved file is identical to %s", args[1])
	}
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

// tmpfs DIR SIZE mounts a tmpfs of SIZE (e.g. 256k) on DIR, unmounted when
// the script ends: a small disk to fill. It needs root; scripts say
// `[!root] skip` first.
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o700))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+args[1]+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		ts.Fatalf("tmpfs: mount: %v\n%s", err, out)
	}
	ts.Defer(func() { _ = exec.Command("umount", "-l", dir).Run() })
}
