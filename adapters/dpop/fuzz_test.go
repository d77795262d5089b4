package dpop

import (
	"strings"
	"testing"
)

// FuzzHTU: any target either is refused or yields an htu without query or
// fragment, with a lower-case scheme (RFC 9449 §4.3).
func FuzzHTU(f *testing.F) {
	for _, s := range []string{"https://Host.Example:443/a/b?q=1#f", "http://127.0.0.1:8080/", "HTTPS://h/%2e%2e/x",
		"https://[::1]:8443/p", "not a url", "//host/path", "https://h/p;x?y", "https://user:pw@h/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		htu, err := HTU(target)
		if err != nil {
			return
		}
		if strings.ContainsAny(htu, "?#") {
			t.Fatalf("htu %q keeps a query or fragment", htu)
		}
		if scheme, _, ok := strings.Cut(htu, "://"); !ok || scheme != strings.ToLower(scheme) {
			t.Fatalf("htu %q has no lower-case scheme", htu)
		}
	})
}
