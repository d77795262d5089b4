package domain

// LoginCommand is the command that signs this configuration in: `stella
// auth login`, with --profile NAME when a profile other than the default
// one is in use, quoted for a shell (SPEC §6). Every hint that tells the
// user to sign in names it, so a user of a named profile is told the
// command that signs that profile in, not the default one.
func (s Settings) LoginCommand() string {
	cmd := "stella auth login"
	if s.Profile != "" {
		cmd += " --profile " + ShellQuote(s.Profile)
	}
	return cmd
}

// SignInHint is advice that names the sign-in command, written where the
// profile in use is not known: an adapter mapping an Authority's answer, a
// stored file failing its checks, a kind's default advice. The command is
// filled in when the hint is shown (Settings.HintFor).
type SignInHint struct {
	Before string // "Sign in again with "
	Flags  string // flags after the command, " --force"
	After  string // "."
}

// For is the hint with the command that signs s in.
func (h SignInHint) For(s Settings) string {
	return h.Before + "`" + s.LoginCommand() + h.Flags + "`" + h.After
}

// ESignIn builds an *Error whose hint names the sign-in command. Its Hint
// is the advice for the default profile, for readers of the field itself.
func ESignIn(kind Kind, msg string, h SignInHint) *Error {
	return &Error{Kind: kind, Message: msg, Hint: h.For(Settings{}), SignIn: &h}
}

// WrapSignIn is ESignIn around a cause.
func WrapSignIn(kind Kind, err error, msg string, h SignInHint) *Error {
	e := ESignIn(kind, msg, h)
	e.Err = err
	return e
}

// HintFor is the most specific advice in the error chain, or the kind's
// default, with any sign-in command naming s's profile.
func (s Settings) HintFor(err error) string {
	if h, ok := hintIn(err, s); ok {
		return h
	}
	return KindOf(err).defaultHint(s)
}
