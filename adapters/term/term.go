// Package term is stella's side of the terminal: the standard streams,
// whether they are terminals, colour, and prompts.
package term

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"

	xterm "golang.org/x/term"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// IO is the process's standard streams. Tests build one over buffers.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Env looks up environment variables (NO_COLOR, TERM).
	Env func(string) (string, bool)
}

// OSStdio is the real terminal.
func OSStdio() IO {
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.LookupEnv}
}

// fdOf finds the file descriptor behind a stream: an *os.File, or a
// wrapper that says which file it writes to (the runtime counts stdout).
func fdOf(v any) (int, bool) {
	f, ok := v.(interface{ Fd() uintptr })
	if !ok || f.Fd() == ^uintptr(0) {
		return 0, false
	}
	return int(f.Fd()), true
}

// IsTerminal reports whether the stream is a terminal.
func IsTerminal(v any) bool {
	fd, ok := fdOf(v)
	return ok && xterm.IsTerminal(fd)
}

// StdinInteractive reports whether a person can answer prompts.
func (t IO) StdinInteractive() bool { return IsTerminal(t.In) }

// Color reports whether stderr may carry colour: a terminal, NO_COLOR unset,
// TERM not "dumb".
func (t IO) Color() bool {
	if t.Env != nil {
		if _, set := t.Env("NO_COLOR"); set {
			return false
		}
		if v, _ := t.Env("TERM"); v == "dumb" {
			return false
		}
	}
	return IsTerminal(t.Err)
}

// Prompter asks questions on the terminal, or refuses when it may not.
type Prompter struct {
	io             IO
	nonInteractive bool
}

// NewPrompter returns a prompter; it does no I/O.
func NewPrompter(t IO, s domain.Settings) *Prompter {
	return &Prompter{io: t, nonInteractive: s.NonInteractive}
}

var _ ports.Prompter = (*Prompter)(nil)

// Interactive reports whether prompting is allowed and possible.
func (p *Prompter) Interactive() bool { return !p.nonInteractive && p.io.StdinInteractive() }

func (p *Prompter) refuse(prompt string) error {
	return domain.E(domain.KindUsage, "stella needs input ("+strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(prompt), ":"))+") but may not prompt here",
		"Provide the value through its flag or environment variable; prompts need an interactive terminal without --non-interactive / CI=true.")
}

// Secret reads a line without echo.
func (p *Prompter) Secret(ctx context.Context, prompt string) (domain.Secret, error) {
	if !p.Interactive() {
		return domain.Secret{}, p.refuse(prompt)
	}
	fd, _ := fdOf(p.io.In)
	// ReadPassword turns echo off and back on only when it returns; after
	// Ctrl-C or SIGTERM it never does, so the terminal is restored here.
	// Asking for Done before echo goes off makes sure the command is
	// watching for those signals by then (its watcher starts on first
	// use), so none can end the process with echo off.
	done := ctx.Done()
	state, _ := xterm.GetState(fd)
	_, _ = io.WriteString(p.io.Err, prompt)
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { b, err := xterm.ReadPassword(fd); ch <- result{b, err} }()
	select {
	case <-done:
		if state != nil {
			_ = xterm.Restore(fd, state)
		}
		_, _ = io.WriteString(p.io.Err, "\n") // the error goes on a line of its own
		return domain.Secret{}, ctx.Err()
	case r := <-ch:
		_, _ = io.WriteString(p.io.Err, "\n")
		if r.err != nil {
			return domain.Secret{}, domain.Wrap(domain.KindUsage, r.err, "could not read from the terminal", "")
		}
		return domain.NewSecret(string(r.b)), nil
	}
}

// Line reads one line with echo.
func (p *Prompter) Line(ctx context.Context, prompt string) (string, error) {
	if !p.Interactive() {
		return "", p.refuse(prompt)
	}
	_, _ = io.WriteString(p.io.Err, prompt)
	ch := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(p.io.In).ReadString('\n')
		ch <- strings.TrimRight(line, "\r\n")
	}()
	select {
	case <-ctx.Done():
		_, _ = io.WriteString(p.io.Err, "\n") // the error goes on a line of its own
		return "", ctx.Err()
	case l := <-ch:
		return l, nil
	}
}
