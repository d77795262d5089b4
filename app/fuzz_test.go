package app

import (
	"strings"
	"testing"
)

// FuzzGroupUserCode: grouping never loses or invents characters.
func FuzzGroupUserCode(f *testing.F) {
	for _, s := range []string{"BCDFGHJK", "BCDF-GHJK", "WDJB MJHT", "123", "ÄÖÜßÄÖÜß", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		g := GroupUserCode(c)
		if g != c && (strings.Replace(g, "-", "", 1) != c || len(g) != 9) {
			t.Fatalf("GroupUserCode(%q) = %q", c, g)
		}
	})
}
