package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

func TestHeadlessLadder(t *testing.T) {
	cases := []struct {
		name    string
		goos    string
		command string
		env     map[string]string
		ok      bool
		why     string
	}{
		{"configured browser always", "linux", "firefox", map[string]string{"SSH_CONNECTION": "x"}, true, ""},
		{"linux desktop", "linux", "", map[string]string{"DISPLAY": ":0"}, true, ""},
		{"wayland", "linux", "", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true, ""},
		{"ssh with forwarded display", "linux", "", map[string]string{"SSH_CONNECTION": "x", "DISPLAY": "localhost:10"}, true, ""},
		{"ssh without display", "linux", "", map[string]string{"SSH_TTY": "/dev/pts/1"}, false, "SSH session without a forwarded display"},
		{"container without display", "linux", "", nil, false, "no graphical display"},
		{"macOS", "darwin", "", nil, true, ""},
		{"macOS over ssh", "darwin", "", map[string]string{"SSH_CONNECTION": "x"}, false, "SSH session"},
		{"windows", "windows", "", nil, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &Opener{command: tc.command, goos: tc.goos, env: func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }}
			ok, why := o.CanOpen()
			if ok != tc.ok || !strings.Contains(why, tc.why) {
				t.Fatalf("%v %q", ok, why)
			}
		})
	}
}

func TestCommandFor(t *testing.T) {
	o := &Opener{command: "firefox --new-window %s", goos: "linux"}
	if name, args := o.commandFor("http://x/"); name != "firefox" || strings.Join(args, " ") != "--new-window http://x/" {
		t.Fatal(name, args)
	}
	o = &Opener{command: "", goos: "darwin"}
	if name, args := o.commandFor("http://x/"); name != "open" || args[0] != "http://x/" {
		t.Fatal(name, args)
	}
}

// A browser command that fails is an error the caller turns into a warning.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "b")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+filepath.Join(dir, "got")+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := (&Opener{command: script, goos: "linux"}).Open(context.Background(), "http://127.0.0.1:1/"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, "got")); strings.TrimSpace(string(b)) == "http://127.0.0.1:1/" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser command did not get the URL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := (&Opener{command: "/nonexistent/browser", goos: "linux"}).Open(context.Background(), "http://x/"); err == nil {
		t.Fatal("a missing browser must be reported")
	}
	if err := (&Opener{command: "false", goos: "linux"}).Open(context.Background(), "http://x/"); err == nil {
		t.Fatal("a failing browser must be reported")
	}
}

func TestEnvironDropsSecrets(t *testing.T) {
	s := domain.Settings{ClientSecret: domain.NewSecret("s3cret"), Password: domain.NewSecret("pw"), CachePassphrase: domain.NewSecret("horse")}
	o := New(s)
	o.environ = func() []string {
		return []string{"HOME=/home/u", "STELLA_CLIENT_SECRET=s3cret", "STELLA_PASSWORD=pw", "STELLA_CACHE_PASSPHRASE=horse",
			"STELLA_CLIENT_SECRET_FILE=/run/s", "STELLA_CACHE_PASSPHRASE_FILE=/run/p", "STELLA_PASSWORD_FILE=/run/w",
			"MY_COPY=horse", "OTHER=s3cret2", "EMPTY=", "STELLA_PROFILE=dev"}
	}
	got := strings.Join(o.Environ(), " ")
	if want := "HOME=/home/u OTHER=s3cret2 EMPTY= STELLA_PROFILE=dev"; got != want {
		t.Fatalf("Environ() = %q, want %q", got, want)
	}
}
