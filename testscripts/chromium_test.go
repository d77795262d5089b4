package testscripts

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

// The real-browser suite: stella opens the development Authority's consent
// page, headless Chromium (driven by chromedp) signs in as operator and
// presses Approve or Deny, and the browser lands on stella's loopback
// listener. In CI Chromium is installed by .ci/run and the suite must run;
// elsewhere it is skipped, saying why.

func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("STELLA_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI (apt-get install -y chromium) and was not found")
	}
	t.Skip("Chromium not installed; the real-browser suite needs it (apt-get install -y chromium, or STELLA_TEST_CHROMIUM=path)")
	return ""
}

// browserFixture is one Authority, one config dir and one Chromium.
type browserFixture struct {
	t       *testing.T
	issuer  string
	dir     string
	urlFile string
	browser context.Context
}

func newBrowserFixture(t *testing.T) *browserFixture {
	path := chromium(t)
	cfg := authority.DefaultConfig()
	cfg.DeviceInterval = time.Second
	srv, err := authority.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	opener := filepath.Join(dir, "open-url")
	// STELLA_BROWSER: hand the URL to the test, which drives Chromium.
	if err := os.WriteFile(opener, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" > \""+filepath.Join(dir, "url")+"\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := startChromium(t, path, dir)
	return &browserFixture{t: t, issuer: issuer, dir: dir, urlFile: filepath.Join(dir, "url"), browser: ctx}
}

// startChromium starts headless Chromium with its profile under dir, with
// the flags this closed network needs, and stops it when the test ends.
func startChromium(t *testing.T, path, dir string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser on the long-lived context: cancelling the context
	// of chromedp's first Run would close the browser.
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func (f *browserFixture) stella(args ...string) *exec.Cmd {
	cmd := exec.Command(stellaBinary(f.t), args...)
	cmd.Env = []string{"HOME=" + f.dir, "PATH=" + os.Getenv("PATH"), "STELLA_CONFIG_DIR=" + filepath.Join(f.dir, "cfg"),
		"STELLA_AUTHORITY_URL=" + f.issuer, "STELLA_CLIENT_ID=stella-cli", "STELLA_SCOPE=openid profile offline_access packs.read",
		"STELLA_TOKEN_STORAGE=file", "STELLA_CACHE_PASSPHRASE=browser-suite-passphrase",
		"STELLA_BROWSER=" + filepath.Join(f.dir, "open-url"), "NO_COLOR=1"}
	return cmd
}

// waitURL waits for stella to hand over the URL it opens.
func (f *browserFixture) waitURL() string {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(f.urlFile); err == nil && len(b) > 0 {
			_ = os.Remove(f.urlFile)
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatal("stella opened no URL")
	return ""
}

// consent fills the sign-in form and presses a button; it returns the
// heading of the page the browser lands on.
func (f *browserFixture) consent(t *testing.T, url, button string) string {
	ctx, cancel := context.WithTimeout(f.browser, 30*time.Second)
	defer cancel()
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "operator"),
		chromedp.SendKeys("#password", "operator"),
		chromedp.Click("#" + button),
	} {
		if _, err := chromedp.Run(ctx, step); err != nil {
			t.Fatalf("browser step %d: %v", i, err)
		}
	}
	// The form's answer replaces the page; wait for the new heading.
	var heading, last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		h, err := chromedp.Run(ctx, chromedp.Text("h1"))
		last = fmt.Sprint(h, err)
		if err == nil && h != "" && !strings.HasPrefix(h, "Sign in to") && !strings.HasPrefix(h, "Connect a device") {
			heading = h
			break
		}
	}
	if heading == "" {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Logf("no new page: last heading %q at %s", last, loc)
	}
	return heading
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestChromiumBrowserSignIn(t *testing.T) {
	f := newBrowserFixture(t)

	// Approve: stella signs in, and status shows the operator.
	login := f.stella("auth", "login", "--browser")
	var out, errb bytes.Buffer
	login.Stdout, login.Stderr = &out, &errb
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	if h := f.consent(t, f.waitURL(), "approve"); h != "Signed in" {
		t.Fatalf("landing page says %q", h)
	}
	if err := login.Wait(); err != nil {
		t.Fatalf("login: %v\n%s", err, errb.String())
	}
	status, err := f.stella("auth", "status").Output()
	if err != nil || !strings.Contains(string(status), "Olivia Operator (operator)") || !strings.Contains(string(status), "Tenant:      acme") {
		t.Fatalf("status: %v\n%s", err, status)
	}

	// Deny: exit 17, and the page says it failed.
	deny := f.stella("auth", "login", "--browser", "--force")
	deny.Stderr = &errb
	if err := deny.Start(); err != nil {
		t.Fatal(err)
	}
	if h := f.consent(t, f.waitURL(), "deny"); h != "Sign-in failed" {
		t.Fatalf("landing page after deny says %q", h)
	}
	if code := exitCode(deny.Wait()); code != 17 {
		t.Fatalf("deny exit %d, want 17", code)
	}
}

var completeURI = regexp.MustCompile(`Or open (http://\S+/device\?user_code=\S+)`)

func TestChromiumDeviceSignIn(t *testing.T) {
	f := newBrowserFixture(t)
	for _, tc := range []struct {
		button, page string
		code         int
	}{{"approve", "Device connected", 0}, {"deny", "Request denied", 17}} {
		t.Run(tc.button, func(t *testing.T) {
			login := f.stella("--timeout", "60s", "auth", "login", "--headless", "--force")
			stderr, err := login.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := login.Start(); err != nil {
				t.Fatal(err)
			}
			var url string
			lines := bufio.NewScanner(stderr)
			for url == "" && lines.Scan() {
				if m := completeURI.FindStringSubmatch(lines.Text()); m != nil {
					url = m[1]
				}
			}
			go func() {
				for lines.Scan() {
				}
			}()
			if url == "" {
				t.Fatal("stella printed no verification URI")
			}
			if h := f.consent(t, url, tc.button); h != tc.page {
				t.Fatalf("page says %q", h)
			}
			if code := exitCode(login.Wait()); code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
		})
	}
}
