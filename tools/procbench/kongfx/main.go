// Command kongfx is a second reference point for `make bench`: the least a
// program built on stella's frameworks (kong for the command line, fx for
// wiring) costs to start, parse one command and print a line. Built with
// -tags libraries it also links stella's other libraries (link_libraries.go).
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
	"go.uber.org/fx"
)

type cli struct {
	Version struct{} `cmd:"" help:"Print the version."`
}

type greeter struct{ name string }

func main() {
	var c cli
	k := kong.Parse(&c, kong.Name("kongfx"))
	var g *greeter
	app := fx.New(fx.NopLogger, fx.Provide(func() *greeter { return &greeter{name: "kongfx dev"} }), fx.Populate(&g))
	if err := app.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) > 99 { // never: links what link links without running it
		link()
	}
	if k.Command() == "version" {
		fmt.Println(g.name)
	}
}
