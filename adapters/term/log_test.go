package term

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode"
)

// -v logs carry servers' words (errors, metadata, URLs): nothing in a log
// line may reach the terminal as a control, bidi or invisible character.
func TestLogHandlerSanitises(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(NewLogHandler(&b, 1))
	log.Debug("userinfo unavailable: \x1b]0;pwned\x07", "error", "bad \u202egnp.exe\u202c", "url", "https://a/\u009b2J")
	log.Warn("issuer \u2066x\u2069", "detail", "\x1b[2J")
	out := b.String()
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Fatalf("raw %U in log output %q", r, out)
		}
	}
	for _, want := range []string{`\u001b]0;pwned\u0007`, `\u202egnp.exe\u202c`, `\u009b2J`, `\u2066x\u2069`} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %s: %q", want, out)
		}
	}
}

func TestSafeWriterKeepsLinesAndJSON(t *testing.T) {
	var b bytes.Buffer
	w := NewSafeWriter(&b)
	// A rune split across two writes is kept whole.
	_, _ = w.Write([]byte("name: Olivia\x1b[2J \xe2\x80"))
	_, _ = w.Write([]byte("\xae\n\tnext\n"))
	if got, want := b.String(), "name: Olivia\\u001b[2J \\u202e\n\tnext\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
