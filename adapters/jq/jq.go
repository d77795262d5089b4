// Package jq runs `stella api --jq` filters in the stella-jq helper
// (cmd/stella-jq). stella does not link gojq: its package initialisation
// would cost every start, even `stella version`, about a millisecond and
// 0.8 MiB, so the filter runs in a program started only for --jq.
package jq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/stellaops/stella/domain"
)

// Helper is the helper's name; it is looked for next to the running
// executable, then on PATH.
const Helper = "stella-jq"

// The helper's exit statuses (internal/jqrun.Status, which stella does
// not import: that would link gojq again). TestHelperStatuses runs the
// real helper against each.
const (
	statusSyntax     = 2
	statusUncompiled = 3
	statusRuntime    = 4
	statusNotJSON    = 5
	statusTooMany    = 6
)

// maxStderr bounds what is kept of the helper's error line.
const maxStderr = 4 << 10

const missingHint = "Install stella-jq next to stella: make build, or go install github.com/stellaops/stella/cmd/..."

// Runner finds and starts the helper.
type Runner struct {
	secrets    []domain.Secret // kept out of the helper's environment
	environ    func() []string
	executable func() (string, error)
	lookPath   func(string) (string, error)
}

// New returns a runner; it does no I/O.
func New(s domain.Settings) *Runner {
	return &Runner{
		secrets: []domain.Secret{s.ClientSecret, s.Password, s.CachePassphrase, s.TokenCachePassword},
		environ: os.Environ, executable: os.Executable, lookPath: exec.LookPath,
	}
}

// Filter is one expression the helper has accepted.
type Filter struct {
	r          *Runner
	path, expr string
}

// Compile finds the helper and has it compile expr, so a mistake in the
// filter is reported before the request is sent: a usage error naming it.
func (r *Runner) Compile(ctx context.Context, expr string) (*Filter, error) {
	path, err := r.find()
	if err != nil {
		return nil, err
	}
	f := &Filter{r: r, path: path, expr: expr}
	if err := f.run(ctx, nil, io.Discard, "--check"); err != nil {
		return nil, err
	}
	return f, nil
}

// Run applies the filter to doc and writes each result on its own line:
// strings as they are (so they can be used in a shell), everything else
// as JSON, indented when pretty.
func (f *Filter) Run(ctx context.Context, doc []byte, w io.Writer, pretty bool) error {
	flag := "--pretty=false"
	if pretty {
		flag = "--pretty"
	}
	return f.run(ctx, doc, w, flag)
}

func (f *Filter) run(ctx context.Context, doc []byte, w io.Writer, flag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A short-lived filter: ending it with the context is right.
	cmd := exec.CommandContext(ctx, f.path, flag, "--", f.expr)
	cmd.Env = domain.ChildEnviron(f.r.environ(), f.r.secrets)
	cmd.Stdin = bytes.NewReader(doc)
	// Never the *os.File itself: the results go through w (stella's
	// sanitising writer on a terminal), in order with what it wrote before.
	cmd.Stdout = struct{ io.Writer }{w}
	var stderr limited
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return domain.Wrap(domain.KindUsage, err, "cannot start the --jq helper "+domain.Printable(f.path, 200), missingHint)
	}
	detail := stderr.line()
	switch exit.ExitCode() {
	case statusSyntax:
		return domain.E(domain.KindUsage, "--jq expression: "+detail,
			"Write a jq filter such as '.jobs[].id'; see https://jqlang.github.io/jq/manual/.")
	case statusUncompiled:
		return domain.E(domain.KindUsage, "--jq expression: "+detail,
			"Write a jq filter such as '.jobs[].id'; $ENV and input functions are not available.")
	case statusRuntime:
		return domain.E(domain.KindUsage, "--jq: "+detail, "Check the filter against the answer's shape (drop --jq to see it).")
	case statusNotJSON:
		return domain.E(domain.KindProtocol, "--jq needs a JSON answer, and the backend's is not JSON",
			"Drop --jq to see the answer as it is.")
	case statusTooMany:
		return domain.E(domain.KindUsage, "--jq produced more than a million results; output stopped there", "Narrow the filter.")
	}
	return domain.Wrap(domain.KindUnexpected, err, "the --jq helper failed: "+detail, "")
}

// find is the helper next to the running executable (symlinks resolved,
// so a linked stella finds its own), else on PATH.
func (r *Runner) find() (string, error) {
	name := Helper
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := r.executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := r.lookPath(name); err == nil {
		return p, nil
	}
	return "", domain.E(domain.KindUsage, "--jq needs the stella-jq helper, and it is neither next to stella nor on PATH", missingHint)
}

// limited keeps the first maxStderr bytes written to it.
type limited struct{ b []byte }

func (l *limited) Write(p []byte) (int, error) {
	if room := maxStderr - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// line is the first line written, made printable.
func (l *limited) line() string {
	s, _, _ := strings.Cut(string(l.b), "\n")
	return domain.Printable(strings.TrimSpace(s), 300)
}
