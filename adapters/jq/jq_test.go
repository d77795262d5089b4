package jq

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

// helperDir holds the real stella-jq, built once for the package's tests.
var helperDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stella-jq-test")
	if err != nil {
		panic(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, Helper), "github.com/stellaops/stella/cmd/stella-jq")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	helperDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// beside is a runner whose executable lives in dir, with nothing on PATH.
func beside(dir string) *Runner {
	r := New(domain.Settings{ClientSecret: domain.NewSecret("s3cret")})
	r.executable = func() (string, error) { return filepath.Join(dir, "stella"), nil }
	r.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	return r
}

// TestHelperStatuses runs the real helper: each of its exit statuses
// becomes today's message, kind and hint.
func TestHelperStatuses(t *testing.T) {
	doc := []byte(`{"jobs":[{"id":"job-1","n":12345678901234},{"id":"job-2","n":1.5}]}`)
	cases := []struct {
		expr   string
		doc    []byte
		pretty bool
		want   string
		kind   domain.Kind
		msg    string // prefix of the message
		hint   string // prefix of the hint
	}{
		{expr: ".jobs[].id", want: "job-1\njob-2\n"},
		{expr: ".jobs[0].n", want: "12345678901234\n"},
		{expr: ".jobs[1]", want: `{"id":"job-2","n":1.5}` + "\n"},
		{expr: ".jobs[0] | {id}", pretty: true, want: "{\n  \"id\": \"job-1\"\n}\n"},
		{expr: "-1", want: "-1\n"}, // an expression that looks like a flag
		{expr: "empty"},
		{expr: ".jobs[", kind: domain.KindUsage, msg: "--jq expression: ", hint: "Write a jq filter such as '.jobs[].id'; see "},
		{expr: "$nope", kind: domain.KindUsage, msg: "--jq expression: ", hint: "Write a jq filter such as '.jobs[].id'; $ENV"},
		{expr: ".jobs.x", kind: domain.KindUsage, msg: "--jq: ", hint: "Check the filter against the answer's shape"},
		{expr: "range(1048577)", kind: domain.KindUsage, msg: "--jq produced more than a million results", hint: "Narrow the filter."},
		{expr: ".", doc: []byte("<html>"), kind: domain.KindProtocol, msg: "--jq needs a JSON answer", hint: "Drop --jq"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			ctx := context.Background()
			f, err := beside(helperDir).Compile(ctx, tc.expr)
			var out bytes.Buffer
			if err == nil {
				d := doc
				if tc.doc != nil {
					d = tc.doc
				}
				err = f.Run(ctx, d, &out, tc.pretty)
			}
			if tc.kind == 0 {
				if err != nil || out.String() != tc.want {
					t.Fatalf("got %q, %v; want %q", out.String(), err, tc.want)
				}
				return
			}
			var e *domain.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.HasPrefix(e.Message, tc.msg) || !strings.HasPrefix(e.Hint, tc.hint) {
				t.Fatalf("err %#v, want kind %v, message %q…, hint %q…", err, tc.kind, tc.msg, tc.hint)
			}
			if strings.ContainsAny(e.Message, "\n\x1b") {
				t.Fatalf("message %q is not one printable line", e.Message)
			}
		})
	}
}

func TestMissingHelper(t *testing.T) {
	_, err := beside(t.TempDir()).Compile(context.Background(), ".")
	var e *domain.Error
	if !errors.As(err, &e) || e.Kind != domain.KindUsage || e.Hint != missingHint || domain.ExitCodeFor(err) != 2 {
		t.Fatalf("err %#v, want a usage error with the install hint", err)
	}
}

// TestFind: next to the executable (through a symlink to it), else PATH.
func TestFind(t *testing.T) {
	self := filepath.Join(helperDir, "stella")
	if err := os.WriteFile(self, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "stella")
	if err := os.Symlink(self, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	r := beside(helperDir)
	r.executable = func() (string, error) { return link, nil }
	if p, err := r.find(); err != nil || p != filepath.Join(helperDir, Helper) {
		t.Fatalf("through a symlink: %q, %v", p, err)
	}
	r = beside(t.TempDir())
	r.lookPath = func(name string) (string, error) { return "/opt/bin/" + name, nil }
	if p, err := r.find(); err != nil || p != "/opt/bin/"+Helper {
		t.Fatalf("on PATH: %q, %v", p, err)
	}
}

// TestEnvironment: the helper gets stella's environment without its
// secrets (a stand-in helper prints what it got).
func TestEnvironment(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in is a shell script")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Helper), []byte("#!/bin/sh\nenv\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := beside(dir)
	r.environ = func() []string {
		return []string{"HOME=/home/u", "STELLA_CLIENT_SECRET=s3cret", "STELLA_PASSWORD_FILE=/run/pw", "COPY=s3cret", "STELLA_PROFILE=dev"}
	}
	f, err := r.Compile(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.Run(context.Background(), []byte("{}"), &out, false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "s3cret") || strings.Contains(got, "STELLA_PASSWORD_FILE") || !strings.Contains(got, "STELLA_PROFILE=dev") {
		t.Fatalf("helper environment:\n%s", got)
	}
}

// TestCancel: a filter that does not end is killed with the context.
func TestCancel(t *testing.T) {
	f, err := beside(helperDir).Compile(context.Background(), "last(range(1e18))")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := f.Run(ctx, []byte("{}"), &bytes.Buffer{}, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v to stop", d)
	}
}
