package domain

import "strings"

// ShellQuote quotes s for a POSIX shell, so a value put into a command the
// user is told to run is one word and runs nothing (SPEC §6). Plain words
// stay as they are; anything else goes in single quotes.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
