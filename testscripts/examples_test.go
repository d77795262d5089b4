package testscripts

// Examples are tests: every shell example in README.md and in every
// command's --help is extracted and run here, against the development
// Authority, by bash with stella (stellaBinary) on PATH. An example that is
// changed so that it no longer runs fails CI; so does a README shell block
// that nobody classified (`<!-- example: NAME -->` before its fence).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

// repoRoot is the module root, where README.md and the Makefile are.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// readmeBlock is one fenced block of README.md with the example name the
// comment before it gives.
type readmeBlock struct {
	name, lang, text string
	line             int
}

var exampleMarker = regexp.MustCompile(`^<!-- example: ([a-z0-9-]+)(?:: (.*))? -->$`)

// readmeBlocks returns every fenced block of the README. A shell block
// must be preceded by an example marker: "skip: why" for the few that
// cannot run here, a name otherwise.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "```") {
			continue
		}
		lang := strings.TrimPrefix(l, "```")
		start := i
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		blk := readmeBlock{lang: lang, text: strings.Join(body, "\n") + "\n", line: start + 1}
		if start > 0 {
			if m := exampleMarker.FindStringSubmatch(lines[start-1]); m != nil {
				blk.name = m[1]
				if m[1] == "skip" && m[2] == "" {
					t.Errorf("README.md:%d: a skipped example must say why (<!-- example: skip: why -->)", start)
				}
			}
		}
		if (lang == "sh" || lang == "bash") && blk.name == "" {
			t.Errorf("README.md:%d: shell block without <!-- example: NAME --> before it: add it to TestExamples, or mark it <!-- example: skip: why -->", start+1)
		}
		blocks = append(blocks, blk)
	}
	return blocks
}

// helpExamples runs `stella CMD --help` for every command and returns the
// examples each shows, continuation lines joined.
func helpExamples(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var walk func(path []string)
	walk = func(path []string) {
		help := runHelp(t, path)
		key := strings.Join(path, " ")
		out[key] = examplesIn(help)
		for _, sub := range subcommands(help, path) {
			walk(sub)
		}
	}
	walk(nil)
	return out
}

func runHelp(t *testing.T, path []string) string {
	t.Helper()
	cmd := exec.Command(stellaBinary(t), append(append([]string{}, path...), "--help")...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("stella %s --help: %v", strings.Join(path, " "), err)
	}
	return stdout.String()
}

// subcommands reads the "Commands:" list of a help text.
func subcommands(help string, parent []string) [][]string {
	var subs [][]string
	in := false
	for _, l := range strings.Split(help, "\n") {
		switch {
		case l == "Commands:":
			in = true
		case in && l == "":
			in = false
		case in && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   "):
			f := strings.Fields(l)
			words := f[:len(parent)+1]
			if len(f) > len(parent) && strings.Join(words[:len(parent)], " ") == strings.Join(parent, " ") {
				subs = append(subs, append([]string{}, words...))
			}
		}
	}
	return subs
}

// examplesIn returns the indented lines after "Example:"/"Examples:".
func examplesIn(help string) []string {
	var out []string
	lines := strings.Split(help, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "Example:" && lines[i] != "Examples:" {
			continue
		}
		var cur string
		for i++; i < len(lines); i++ {
			l := lines[i]
			if l == "" {
				continue
			}
			if !strings.HasPrefix(l, "  ") {
				break
			}
			l = strings.TrimSpace(l)
			if strings.HasSuffix(l, `\`) {
				cur += l + "\n"
				continue
			}
			out = append(out, cur+l)
			cur = ""
		}
	}
	return out
}

// sandbox is one example's world: a home directory (with the operator's
// ~/.stellaops), a working directory, and the environment bash gets.
type sandbox struct {
	t         *testing.T
	dir, home string
	env       []string
	approve   []string // Authorities whose pending device sign-ins a "person" approves
	slow      bool     // it builds stella: minutes, not seconds
}

const examplePassphrase = "examples-passphrase-0123"

// newSandbox makes a clean world. With operator, ~/.stellaops holds the
// configuration a person at a desktop would have: config.yaml naming the
// Authority (the development one at issuer), the README's packs-approver
// profile and a ci profile, with their secrets.
func newSandbox(t *testing.T, issuer string, operator bool) *sandbox {
	t.Helper()
	dir := t.TempDir()
	sb := &sandbox{t: t, dir: dir, home: filepath.Join(dir, "home")}
	must(t, os.MkdirAll(sb.home, 0o700))
	// An example's curl that gets an HTTP error has failed, as a person
	// reading its output would see; this user's ~/.curlrc says so.
	must(t, os.WriteFile(filepath.Join(sb.home, ".curlrc"), []byte("fail\nsilent\nshow-error\n"), 0o600))
	if operator {
		cfg := filepath.Join(sb.home, ".stellaops")
		must(t, os.MkdirAll(filepath.Join(cfg, "profiles"), 0o700))
		must(t, os.MkdirAll(filepath.Join(cfg, "secrets"), 0o700))
		must(t, os.WriteFile(filepath.Join(cfg, "config.yaml"), []byte(fmt.Sprintf(`StellaOps:
  Authority:
    Url: %s
    ClientId: stella-cli
    Scope: "openid profile offline_access packs.read packs.run"
    TokenStorage: file
  BackendUrl: %s
`, issuer, issuer)), 0o600))
		// The README's own profiles, as a reader would copy them.
		profile := regexp.MustCompile(`^# ~/\.stellaops/profiles/([a-z-]+\.yaml)`)
		found := 0
		for _, b := range readmeBlocks(t) {
			if m := profile.FindStringSubmatch(b.text); m != nil {
				found++
				must(t, os.WriteFile(filepath.Join(cfg, "profiles", m[1]), []byte(substitute(b.text, issuer)), 0o600))
			}
		}
		if _, err := os.Stat(filepath.Join(cfg, "profiles", "packs-approver.yaml")); err != nil || found < 2 {
			t.Fatal("README.md lost its profile blocks (packs-approver and others)")
		}
		must(t, os.WriteFile(filepath.Join(cfg, "secrets", "pack-approver.secret"), []byte("pack-approver-secret\n"), 0o600))
		must(t, os.WriteFile(filepath.Join(cfg, "profiles", "ci.yaml"), []byte(`StellaOps:
  Authority:
    ClientId: stella-ci
    ClientSecretFile: ~/.stellaops/secrets/stella-ci.secret
    Scope: packs.read
    TokenStorage: memory
`), 0o600))
		must(t, os.WriteFile(filepath.Join(cfg, "secrets", "stella-ci.secret"), []byte("stella-ci-secret\n"), 0o600))
		// Files the examples name, where a user would have them.
		must(t, os.WriteFile(filepath.Join(dir, "ci.secret"), []byte("stella-ci-secret\n"), 0o600))
		must(t, os.WriteFile(filepath.Join(dir, "job.json"), []byte(`{"pack":"nightly-scan"}`), 0o600))
	}
	// `stella` on PATH is the binary under test.
	bin := filepath.Join(dir, "bin")
	must(t, os.MkdirAll(bin, 0o700))
	must(t, os.Symlink(stellaBinary(t), filepath.Join(bin, "stella")))
	sb.env = []string{
		"HOME=" + sb.home, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C.UTF-8", "NO_COLOR=1", "TERM=dumb",
		// A person at this desktop: the browser signs in on the consent page.
		"STELLA_BROWSER=fakebrowser", "FAKEBROWSER=approve",
		"STELLA_CACHE_PASSPHRASE=" + examplePassphrase,
	}
	// The Go toolchain's caches, for the examples that build.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN"} {
		if out, err := exec.Command("go", "env", v).Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			sb.env = append(sb.env, v+"="+string(bytes.TrimSpace(out)))
		}
	}
	return sb
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// substitute points an example's placeholder hosts at the development
// Authority (which is also the backend).
func substitute(s, issuer string) string {
	return strings.NewReplacer(
		"https://authority.example.com", issuer,
		"https://task-runner.example.com", issuer,
	).Replace(s)
}

// exampleResult is what one example run did.
type exampleResult struct {
	code           int
	stdout, stderr string
}

// run runs script with bash in dir (the sandbox's, unless given), in its
// own process group so that whatever it starts in the background ends with
// it. While it runs, a "person" approves device sign-ins at the sandbox's
// Authorities and, with openURL, opens the first URL matching it that the
// script prints.
func (sb *sandbox) run(script, dir string, extraEnv []string, openURL *regexp.Regexp) exampleResult {
	sb.t.Helper()
	if dir == "" {
		dir = sb.dir
	}
	limit := time.Minute
	if sb.slow {
		limit = 8 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// -e: an example whose command fails, fails; -u: an example that
	// relies on a variable nobody set does not write to "/".
	cmd := exec.Command("bash", "-eu", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, sb.env...), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// What the script left running in the background (the quick start's
	// Authority) keeps stdout open; once bash is done, that is not waited for.
	cmd.WaitDelay = time.Second
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = nil
	must(sb.t, cmd.Start())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		opened := false
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				if b, err := exec.Command("ps", "-o", "pid,ppid,etime,args", "-g", fmt.Sprint(cmd.Process.Pid)).Output(); err == nil {
					sb.t.Logf("still running:\n%s", b)
				}
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				return
			case <-time.After(200 * time.Millisecond):
			}
			for _, a := range sb.approve {
				approveDevice(a)
			}
			if openURL != nil && !opened {
				if u := openURL.FindString(stdout.String() + stderr.String()); u != "" {
					opened = true
					c := exec.Command("fakebrowser", u)
					c.Env = cmd.Env
					_ = c.Run()
				}
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	wg.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // background children
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		sb.t.Fatalf("bash: %v", err)
	}
	code := cmd.ProcessState.ExitCode()
	r := exampleResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		sb.t.Fatalf("example did not finish within %v:\n%s\n%s", limit, script, r)
	}
	return r
}

// approveDevice approves the latest pending device sign-in, if any, as the
// person at the other device would.
func approveDevice(base string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin/device", strings.NewReader(`{"action":"approve"}`))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := harnessClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func startAuthority(t *testing.T) string {
	t.Helper()
	cfg := authority.DefaultConfig()
	cfg.DeviceInterval = time.Second
	srv, err := authority.New(cfg)
	must(t, err)
	issuer, err := srv.Start("127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

func loopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// closedURL is a loopback URL nothing listens on: the Authority down.
func closedURL(t *testing.T) string { return "http://127.0.0.1:" + loopbackPort(t) }

func (r exampleResult) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// signIn gives the sandbox's operator a session, as `stella auth login`
// in the browser does.
func (sb *sandbox) signIn() {
	sb.t.Helper()
	if r := sb.run("stella auth login --browser", "", nil, nil); r.code != 0 {
		sb.t.Fatalf("signing in before the example: %s", r)
	}
}

// helpCase says how to run one --help example when the default (an
// operator signed in, exit 0) does not fit. Keyed by the example's text,
// so a changed example runs with the default and must still work.
type helpCase struct {
	noSession bool              // run before anyone signed in
	env       []string          // extra environment
	openURL   string            // a person opens the printed URL matching this (with PORT)
	replace   map[string]string // e.g. a fixed port that must be free here
}

var helpCases = map[string]helpCase{
	"stella auth login                                   # interactive sign-in":                           {noSession: true},
	"stella auth login --headless                        # over SSH: a URL and a code to enter elsewhere": {noSession: true},
	"stella auth login --browser --no-browser --callback-port 8765   # then: ssh -L 8765:127.0.0.1:8765 host": {
		noSession: true, openURL: `http://127\.0\.0\.1:PORT/\S*`, replace: map[string]string{"8765": "PORT"}},
	"STELLA_CLIENT_SECRET_FILE=ci.secret stella auth login --client-credentials": {noSession: true, env: []string{"STELLA_CLIENT_ID=stella-ci", "STELLA_SCOPE=packs.read"}},
}

func TestExamples(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("jq is missing; .ci/run installs it")
		}
		t.Skip("jq is not installed (apt-get install -y jq); the examples use it")
	}
	issuer := startAuthority(t)
	t.Run("help", func(t *testing.T) {
		examples := helpExamples(t)
		n := 0
		for cmd, list := range examples {
			for _, ex := range list {
				n++
				t.Run(strings.ReplaceAll(cmd, " ", "_")+"/"+firstWords(ex), func(t *testing.T) {
					runHelpExample(t, issuer, ex)
				})
			}
		}
		if n < 20 {
			t.Fatalf("only %d examples found in --help texts; the extraction broke", n)
		}
	})
	t.Run("readme", func(t *testing.T) {
		runREADME(t, issuer)
	})
}

func firstWords(s string) string {
	f := strings.Fields(strings.SplitN(s, "#", 2)[0])
	if len(f) > 4 {
		f = f[:4]
	}
	return strings.NewReplacer("/", "_", "|", "pipe").Replace(strings.Join(f, "_"))
}

func runHelpExample(t *testing.T, issuer, ex string) {
	c := helpCases[ex]
	sb := newSandbox(t, issuer, true)
	sb.approve = []string{issuer}
	script := substitute(ex, issuer)
	var open *regexp.Regexp
	if len(c.replace) > 0 || c.openURL != "" {
		port := loopbackPort(t)
		for from, to := range c.replace {
			script = strings.ReplaceAll(script, from, strings.ReplaceAll(to, "PORT", port))
		}
		if c.openURL != "" {
			open = regexp.MustCompile(strings.ReplaceAll(c.openURL, "PORT", port))
		}
	}
	if !c.noSession {
		sb.signIn()
	}
	r := sb.run(script, "", c.env, open)
	if r.code != 0 {
		t.Fatalf("example from --help does not run:\n%s\n%s", script, r)
	}
	// A jq example reads one document, on success and on failure: the
	// same pipeline with nobody signed in, or with the Authority down.
	if left, _, ok := strings.Cut(script, "| jq"); ok {
		one := left + "| jq -e -s 'length == 1' >/dev/null"
		if r := sb.run(one, "", c.env, nil); r.code != 0 {
			t.Fatalf("%q does not print exactly one JSON document:\n%s", left, r)
		}
		down := newSandbox(t, closedURL(t), true)
		for _, failing := range []*sandbox{newSandbox(t, issuer, true), down} {
			if r := failing.run(one, "", c.env, nil); r.code != 0 {
				t.Fatalf("%q does not print exactly one JSON document when it fails:\n%s", left, r)
			}
			if r := failing.run(script, "", c.env, nil); r.code != 0 || strings.Contains(r.stderr, "jq: error") {
				t.Fatalf("the jq example fails when the command fails:\n%s\n%s", script, r)
			}
		}
	}
}

// runREADME runs the README's shell blocks, each with the world its
// marker names, and the CI snippets (shell, GitHub Actions, GitLab CI)
// with a good secret (exit 0), a wrong one and the Authority down (both
// non-zero).
func runREADME(t *testing.T, issuer string) {
	blocks := readmeBlocks(t)
	byName := map[string][]readmeBlock{}
	for _, b := range blocks {
		if b.name != "" {
			byName[b.name] = append(byName[b.name], b)
		}
	}
	joined := func(name string) string {
		var s strings.Builder
		for _, b := range byName[name] {
			s.WriteString(b.text)
		}
		if s.Len() == 0 {
			t.Fatalf("README.md has no block marked <!-- example: %s -->", name)
		}
		return s.String()
	}
	known := map[string]bool{"skip": true, "install": true, "quick-start": true, "operator": true,
		"ci-shell": true, "ci-github": true, "ci-gitlab": true}
	for name := range byName {
		if !known[name] {
			t.Errorf("README.md marks a block <!-- example: %s -->, which TestExamples does not run", name)
		}
	}

	t.Run("install", func(t *testing.T) {
		sb := newSandbox(t, issuer, false)
		sb.slow = true
		gobin := filepath.Join(sb.dir, "gobin")
		r := sb.run(joined("install"), repoRoot(t), []string{"GOBIN=" + gobin}, nil)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		if _, err := os.Stat(filepath.Join(gobin, "stella")); err != nil {
			t.Fatalf("go install left no stella: %v", err)
		}
		if _, err := os.Stat(filepath.Join(gobin, "stella-jq")); err != nil {
			t.Fatalf("go install left no stella-jq (stella api --jq needs it): %v", err)
		}
	})

	t.Run("quick-start", func(t *testing.T) {
		// The quick start runs in the checkout (make build) and starts its
		// own development Authority, on a port that is free here.
		sb := newSandbox(t, issuer, false)
		sb.slow = true
		port := loopbackPort(t)
		script := strings.NewReplacer("127.0.0.1:8085", "127.0.0.1:"+port, "/tmp/ci.secret", filepath.Join(sb.dir, "ci.secret")).
			Replace(joined("quick-start"))
		sb.approve = []string{"http://127.0.0.1:" + port}
		if r := sb.run(script, repoRoot(t), nil, nil); r.code != 0 {
			t.Fatalf("the quick start does not run:\n%s\n%s", script, r)
		}
	})

	t.Run("operator", func(t *testing.T) {
		sb := newSandbox(t, issuer, true)
		sb.approve = []string{issuer}
		script := substitute(joined("operator"), issuer)
		if r := sb.run(script, "", nil, nil); r.code != 0 {
			t.Fatalf("the operator's examples do not run:\n%s\n%s", script, r)
		}
	})

	// The CI snippets: a runner with nothing but the job's variables.
	type ciWorld struct {
		name, authority, secret string
		wantOK                  bool
	}
	worlds := []ciWorld{
		{"good secret", issuer, "stella-ci-secret", true},
		{"wrong secret", issuer, "not-the-stella-ci-secret", false},
		{"authority down", closedURL(t), "stella-ci-secret", false},
	}
	check := func(t *testing.T, w ciWorld, sb *sandbox, r exampleResult) {
		t.Helper()
		if (r.code == 0) != w.wantOK {
			t.Fatalf("with a %s the job exited %d (want %s):\n%s", w.name, r.code, map[bool]string{true: "0", false: "non-zero"}[w.wantOK], r)
		}
		if w.wantOK && !strings.Contains(r.stdout, "job-1001") {
			t.Fatalf("the job did not list jobs:\n%s", r)
		}
		// Memory storage: nothing on the runner's disk.
		if _, err := os.Stat(filepath.Join(sb.home, ".stellaops")); err == nil {
			t.Fatalf("the CI job left %s behind", filepath.Join(sb.home, ".stellaops"))
		}
	}
	for _, w := range worlds {
		t.Run("ci-shell/"+strings.ReplaceAll(w.name, " ", "_"), func(t *testing.T) {
			sb := newSandbox(t, w.authority, false)
			secret := filepath.Join(sb.dir, "stella-ci.secret")
			must(t, os.WriteFile(secret, []byte(w.secret+"\n"), 0o600))
			script := strings.ReplaceAll(substitute(joined("ci-shell"), w.authority), "/run/secrets/stella-ci", secret)
			check(t, w, sb, sb.run(script, "", nil, nil))
		})
		t.Run("ci-github/"+strings.ReplaceAll(w.name, " ", "_"), func(t *testing.T) {
			var steps []struct {
				Name string            `yaml:"name"`
				Env  map[string]string `yaml:"env"`
				Run  string            `yaml:"run"`
			}
			must(t, yaml.Unmarshal([]byte(joined("ci-github")), &steps))
			if len(steps) == 0 || steps[0].Run == "" {
				t.Fatal("the GitHub Actions example has no step with run")
			}
			for _, st := range steps {
				sb := newSandbox(t, w.authority, false)
				var env []string
				for k, v := range st.Env {
					v = strings.ReplaceAll(v, "${{ secrets.STELLA_CI_SECRET }}", w.secret)
					env = append(env, k+"="+substitute(v, w.authority))
				}
				check(t, w, sb, sb.run(substitute(st.Run, w.authority), "", env, nil))
			}
		})
		t.Run("ci-gitlab/"+strings.ReplaceAll(w.name, " ", "_"), func(t *testing.T) {
			var jobs map[string]struct {
				Variables map[string]string `yaml:"variables"`
				Script    []string          `yaml:"script"`
			}
			must(t, yaml.Unmarshal([]byte(joined("ci-gitlab")), &jobs))
			if len(jobs) == 0 {
				t.Fatal("the GitLab CI example has no job")
			}
			for _, job := range jobs {
				sb := newSandbox(t, w.authority, false)
				// A variable of type File: GitLab puts its value in a file
				// and the variable holds the path.
				file := filepath.Join(sb.dir, "STELLA_CI_SECRET")
				must(t, os.WriteFile(file, []byte(w.secret+"\n"), 0o600))
				env := []string{"STELLA_CI_SECRET=" + file}
				for k, v := range job.Variables {
					env = append(env, k+"="+substitute(v, w.authority))
				}
				check(t, w, sb, sb.run(substitute(strings.Join(job.Script, "\n"), w.authority), "", env, nil))
			}
		})
	}
}

// TestExampleExtraction proves the extraction itself: a help text's
// examples, continuation lines and all, and the README markers.
func TestExampleExtraction(t *testing.T) {
	help := "Usage: x\n\nExamples:\n\n    stella a   # one\n    stella b \\\n      --c d\n\nFlags:\n  -h\n"
	got := examplesIn(help)
	if len(got) != 2 || got[0] != "stella a   # one" || got[1] != "stella b \\\n--c d" {
		t.Fatalf("%q", got)
	}
	sc := bufio.NewScanner(strings.NewReader("<!-- example: ci-shell -->"))
	sc.Scan()
	if m := exampleMarker.FindStringSubmatch(sc.Text()); m == nil || m[1] != "ci-shell" {
		t.Fatalf("marker not recognised: %q", m)
	}
}
