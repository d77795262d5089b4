package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text from outside stella — servers' answers, claims, metadata, files —
// can carry terminal escape sequences (OSC title and clipboard writes, CSI
// screen clears, the 8-bit CSI U+009B) and bidirectional overrides that
// make what a user reads differ from what they act on (SPEC §6). It
// reaches a terminal, a log, a hint or the browser page only through
// Printable, directly or as an Untrusted value.

// Untrusted is text stella did not write: identity claims, a device
// authorization's code and URIs, discovery metadata, OAuth error
// descriptions, problem details. It prints (through fmt, %s, %v and %q
// alike, and String) only sanitised and cut to DefaultLimit. Raw and a
// conversion to string are the doors to the bytes, for the adapters that
// parse and send them; tools/audit's "untrusted" rule keeps every other
// package from opening them, so the safe way out is the only one.
//
// JSON needs no door: Untrusted is a string kind without a MarshalJSON,
// so encoding/json writes the server's value itself, escaped, exactly as
// it writes a string (with or without HTML escaping), and a --json
// document or a stored session keeps what the server said.
type Untrusted string

// DefaultLimit is how much of one untrusted value a line shows.
const DefaultLimit = 300

// String is the sanitised value.
func (u Untrusted) String() string { return Printable(string(u), DefaultLimit) }

// Format makes every fmt verb print the sanitised value.
func (u Untrusted) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", u.String())
		return
	}
	_, _ = f.Write([]byte(u.String()))
}

// Raw is the unsanitised text, for the packages the audit allows (the
// adapters that send or validate it); everyone else prints u.
func (u Untrusted) Raw() string { return string(u) }

// Cut is the sanitised value cut to limit bytes (plus an ellipsis), for a
// value that must be shorter than DefaultLimit on its line.
func (u Untrusted) Cut(limit int) string { return Printable(string(u), limit) }

// JoinUntrusted is the values sanitised one by one and joined by sep, for a
// line listing what a server advertised.
func JoinUntrusted(us []Untrusted, sep string) string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.String()
	}
	return strings.Join(out, sep)
}

// Printable makes untrusted text safe for one terminal line: line breaks
// and tabs become spaces; other C0 and C1 controls, DEL, bidirectional
// controls and every other invisible formatting character (Unicode Cf) are
// shown as escapes (\u001b, \u009b, \u202e — the JSON spelling, so the
// same text reads the same in a document), so nothing reaches the terminal
// as a control and nothing hides; invalid UTF-8 becomes U+FFFD. The result
// is cut to at most limit bytes (plus an ellipsis) on a rune boundary.
func Printable(s string, limit int) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		piece := visible(r)
		if b.Len()+len(piece) > limit {
			b.WriteString("…")
			break
		}
		b.WriteString(piece)
	}
	return strings.TrimSpace(b.String())
}

// visible is how one rune of untrusted text is shown.
func visible(r rune) string {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f':
		return " "
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return fmt.Sprintf(`\u%04x`, r)
	case unicode.Is(unicode.Cf, r) || isBidi(r) || (r >= 0xfff9 && r <= 0xfffb):
		return fmt.Sprintf(`\u%04x`, r)
	case !unicode.IsGraphic(r) && r != utf8.RuneError && !unicode.IsSpace(r):
		// unassigned, private-use, surrogate halves: nothing to read there
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// isBidi reports the explicit bidirectional formatting characters
// (Trojan Source, CVE-2021-42574): embeddings, overrides, isolates, marks.
func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Safe reports whether s would print unchanged: no control, bidi or
// invisible formatting character, valid UTF-8.
func Safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if visible(r) != string(r) {
			return false
		}
	}
	return true
}

// PrintableLines is Printable for a block of text stella composed around
// untrusted values: line breaks and tabs stay, every other control, bidi
// or invisible formatting character becomes a \uXXXX escape (the same in
// JSON strings, so a JSON document stays valid and means the same), and
// nothing is cut.
func PrintableLines(s string) string {
	if Safe(strings.NewReplacer("\n", " ", "\t", " ").Replace(s)) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case visible(r) != string(r):
			if r > 0xffff {
				hi, lo := utf16Pair(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
