package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/stellaops/stella/domain"
)

// Label is a named string of the app's own: converting to it strips the
// sanitising methods like converting to string does.
type Label string

// lookalike has a Raw method that is not domain.Untrusted's: no report.
type lookalike string

func (l lookalike) Raw() string { return string(l) }

func show[T ~string](t T) string                      { return string(t) }
func showBytes[T ~string | ~[]byte](t T) string       { return string(t) }
func count[T any](t T) int                            { return 0 }
func less[T interface{ ~int | ~string }](a, b T) bool { return a < b }

// Box's body could convert its T to string as well.
type Box[T ~string] struct{ v T }

type identity struct{ Name domain.Untrusted }

func prints(w io.Writer, u domain.Untrusted, id identity, s string) {
	fmt.Fprintf(w, "%s %v %q\n", u, id.Name, u) // Format sanitises: no report
	_ = u.String() + domain.Untrusted(s).String()
	_ = u == "x" || len(u) > 3 || u[1:] == "" // comparing and slicing keep the type
	_ = lookalike(s).Raw() + string(lookalike(s)) + string(Label(s))
	_ = count(u) + len(fmt.Sprint(less(u, u)))

	io.WriteString(w, string(u)) // want `audit\(untrusted\): converting domain.Untrusted to string hands out the server's raw text outside domain; print the value itself`
	w.Write([]byte(id.Name))     // want `audit\(untrusted\): converting domain.Untrusted to \[\]byte`
	_ = Label(u)                 // want `audit\(untrusted\): converting domain.Untrusted to Label`
	_ = strings.ToUpper(u.Raw()) // want `audit\(untrusted\): Untrusted.Raw hands out the server's raw text outside domain`
	raw := id.Name.Raw           // want `audit\(untrusted\): Untrusted.Raw`
	_ = raw
	_ = u[0]      // want `audit\(untrusted\): indexing a domain.Untrusted reads the server's raw bytes`
	for range u { // want `audit\(untrusted\): ranging over a domain.Untrusted`
	}
	_ = show(u)                 // want `audit\(untrusted\): domain.Untrusted as the type argument of show, whose constraint admits only strings`
	_ = showBytes(id.Name)      // want `audit\(untrusted\): domain.Untrusted as the type argument of showBytes`
	_ = Box[domain.Untrusted]{} // want `audit\(untrusted\): domain.Untrusted as the type argument of Box`
}
