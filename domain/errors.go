package domain

import (
	"context"
	"errors"
)

// Kind classifies a failure. The exit code, and the default advice printed
// with it, are decided from the kind alone (ExitCodeFor), never from text.
type Kind int

const (
	KindUnexpected    Kind = iota // a bug
	KindUsage                     // bad flag, bad configuration
	KindUnauthorized              // 401 after one refresh-and-retry; invalid_client
	KindForbidden                 // 403; insufficient_scope
	KindLoginRequired             // no session, or the refresh token is dead
	KindUnreachable               // DNS, refused, reset, network timeout
	KindServer                    // 5xx
	KindProtocol                  // security or protocol violation
	KindTimeout                   // the user did not finish in time
	KindAccessDenied              // the user refused consent
	KindStorage                   // the credential store failed
	KindConflict                  // 409 / 412
	KindInterrupted               // Ctrl-C
)

var kindTable = [...]struct {
	code int
	name string
	hint string // empty: kindSignIn has the advice
}{
	KindUnexpected:    {1, "unexpected", "This is a bug in stella; run again with -v and report the output."},
	KindUsage:         {2, "usage", "Run the command with --help to see its flags and an example."},
	KindUnauthorized:  {10, "unauthorized", ""},
	KindForbidden:     {11, "forbidden", "Ask for the missing scope with --add-scope (or the profile's AddScope), which keeps the others, and sign in again."},
	KindLoginRequired: {12, "login_required", ""},
	KindUnreachable:   {13, "unreachable", "Check the URL, your network and any HTTPS_PROXY / NO_PROXY settings, then try again."},
	KindServer:        {14, "server_error", "The server failed; try again later, and quote the request id if you contact its operators."},
	KindProtocol:      {15, "protocol_error", "The server's answer failed a security check; verify the Authority URL and its configuration."},
	KindTimeout:       {16, "timeout", "Start the sign-in again and finish it within the time shown (see --timeout)."},
	KindAccessDenied:  {17, "access_denied", "Consent was refused; sign in again and approve the request if you meant to."},
	KindStorage:       {18, "storage_error", "Run `stella auth doctor` to check the credential store."},
	KindConflict:      {19, "conflict", "The resource changed on the server; fetch its current state and try again."},
	KindInterrupted:   {130, "interrupted", "Run the command again when you are ready."},
}

// kindSignIn is the default advice of the kinds whose fix is a sign-in.
var kindSignIn = map[Kind]SignInHint{
	KindUnauthorized:  {"Sign in again with ", " --force", ", or check the client credentials."},
	KindLoginRequired: {"Sign in with ", "", "."},
}

// ExitCode is the process exit code of the kind (SPEC §4).
func (k Kind) ExitCode() int {
	if k < 0 || int(k) >= len(kindTable) {
		return 1
	}
	return kindTable[k].code
}

// String is a stable, machine-friendly name, used in --json error output.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindTable) {
		return "unexpected"
	}
	return kindTable[k].name
}

// DefaultHint is the advice printed when the error itself carries none,
// for the default profile (Settings.HintFor names the profile in use).
func (k Kind) DefaultHint() string { return k.defaultHint(Settings{}) }

func (k Kind) defaultHint(s Settings) string {
	if h, ok := kindSignIn[k]; ok {
		return h.For(s)
	}
	if k < 0 || int(k) >= len(kindTable) {
		return kindTable[KindUnexpected].hint
	}
	return kindTable[k].hint
}

// sentinel lets callers write errors.Is(err, domain.ErrLoginRequired) and
// fmt.Errorf("...: %w", domain.ErrForbidden).
type sentinel struct{ kind Kind }

func (s *sentinel) Error() string { return s.kind.String() }

// Sentinels, one per kind.
var (
	ErrUnexpected    error = &sentinel{KindUnexpected}
	ErrUsage         error = &sentinel{KindUsage}
	ErrUnauthorized  error = &sentinel{KindUnauthorized}
	ErrForbidden     error = &sentinel{KindForbidden}
	ErrLoginRequired error = &sentinel{KindLoginRequired}
	ErrUnreachable   error = &sentinel{KindUnreachable}
	ErrServer        error = &sentinel{KindServer}
	ErrProtocol      error = &sentinel{KindProtocol}
	ErrTimeout       error = &sentinel{KindTimeout}
	ErrAccessDenied  error = &sentinel{KindAccessDenied}
	ErrStorage       error = &sentinel{KindStorage}
	ErrConflict      error = &sentinel{KindConflict}
	ErrInterrupted   error = &sentinel{KindInterrupted}
	// ErrNotFound is not a failure kind of its own: stores return it for a
	// missing session and the use cases decide what that means.
	ErrNotFound = errors.New("not found")
)

// Error is a failure with a kind, a one-line message saying what happened
// and a hint saying what to do next. Messages never contain secrets.
type Error struct {
	Kind    Kind
	Message string
	Hint    string
	Err     error
	// SignIn, when set, is the hint as advice naming the sign-in command,
	// which Settings.HintFor fills in for the profile in use (Hint is the
	// same advice for the default profile).
	SignIn *SignInHint
}

// E builds an *Error.
func E(kind Kind, msg, hint string) *Error { return &Error{Kind: kind, Message: msg, Hint: hint} }

// Wrap builds an *Error around a cause.
func Wrap(kind Kind, err error, msg, hint string) *Error {
	return &Error{Kind: kind, Message: msg, Hint: hint, Err: err}
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil || e.Err.Error() == "":
		return e.Message
	case e.Message == "":
		return e.Err.Error()
	default:
		return e.Message + ": " + e.Err.Error()
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes an *Error match the sentinel of its kind.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.kind == e.Kind
}

// KindOf finds the kind of an error: the outermost *Error or sentinel in its
// chain decides. context.Canceled means the user interrupted; a deadline
// that expired without a more specific kind means the network timed out.
func KindOf(err error) Kind {
	if k, ok := kindIn(err); ok {
		return k
	}
	switch {
	case errors.Is(err, context.Canceled):
		return KindInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return KindUnreachable
	}
	return KindUnexpected
}

// kindIn walks the chain outermost first, so a wrapper's kind wins over its
// cause's.
func kindIn(err error) (Kind, bool) {
	for cur := err; cur != nil; {
		switch e := cur.(type) {
		case *Error:
			return e.Kind, true
		case *sentinel:
			return e.kind, true
		case interface{ Unwrap() []error }:
			for _, c := range e.Unwrap() {
				if k, ok := kindIn(c); ok {
					return k, true
				}
			}
			return 0, false
		}
		cur = errors.Unwrap(cur)
	}
	return 0, false
}

// ExitCodeFor is the one place an error becomes an exit code.
func ExitCodeFor(err error) int {
	if err == nil {
		return 0
	}
	return KindOf(err).ExitCode()
}

// HintFor returns the most specific advice in the error chain, or the
// kind's default, for the default profile. Where the settings are known,
// Settings.HintFor names the profile in use in a sign-in command.
func HintFor(err error) string { return Settings{}.HintFor(err) }

func hintIn(err error, s Settings) (string, bool) {
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		switch e := cur.(type) {
		case *Error:
			if e.SignIn != nil {
				return e.SignIn.For(s), true
			}
			if e.Hint != "" {
				return e.Hint, true
			}
		case interface{ Unwrap() []error }:
			for _, c := range e.Unwrap() {
				if h, ok := hintIn(c, s); ok {
					return h, true
				}
			}
			return "", false
		}
	}
	return "", false
}
