package app

import (
	"strings"
	"testing"

	"github.com/stellaops/stella/domain"
)

// FuzzGroupUserCode: grouping never loses or invents characters of the
// code as shown, and what it shows is safe to print.
func FuzzGroupUserCode(f *testing.F) {
	for _, s := range []string{"BCDFGHJK", "BCDF-GHJK", "WDJB MJHT", "123", "ÄÖÜßÄÖÜß", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		g, shown := GroupUserCode(domain.Untrusted(c)), domain.Untrusted(c).Cut(64)
		if !domain.Safe(g) || g != shown && (strings.Replace(g, "-", "", 1) != shown || len(g) != 9) {
			t.Fatalf("GroupUserCode(%q) = %q", c, g)
		}
	})
}
