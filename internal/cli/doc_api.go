package cli

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// `stella api` has no document of its own: the backend's body is its
// output (byte for byte when piped). What it prints itself is here.

// writeHead prints the status line and headers, as curl -i and gh api -i
// do. On a terminal the server's words are made printable (SPEC §6).
func writeHead(w io.Writer, res app.APIOutput, tty bool) {
	clean := func(s string) string {
		if tty {
			return domain.Printable(s, 4096)
		}
		return strings.NewReplacer("\r", "", "\n", " ").Replace(s)
	}
	fmt.Fprintf(w, "HTTP %d %s\n", res.Status, http.StatusText(res.Status))
	keys := make([]string, 0, len(res.Header))
	for k := range res.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range res.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", clean(k), clean(v))
		}
	}
	fmt.Fprintln(w)
}

func isJSON(h http.Header) bool {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}
