// Command devauthority runs the development Authority: a standards-strict,
// loopback-only OAuth 2.1 / OpenID Connect server with StellaOps backend
// routes. It is test infrastructure for stella's suites and `make demo`;
// users of a real Authority never need it.
//
//	go run ./tools/devauthority -addr 127.0.0.1:0
//
// prints its issuer URL as the first line of stdout and serves until
// interrupted.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

func main() {
	cfg := authority.DefaultConfig()
	fs := flag.NewFlagSet("devauthority", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	authority.BindFlags(fs, &cfg)
	_ = fs.Parse(os.Args[1:])

	srv, err := authority.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devauthority:", err)
		os.Exit(2)
	}
	issuer, err := srv.Start(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devauthority:", err)
		os.Exit(2)
	}
	fmt.Println(issuer)
	fmt.Fprintln(os.Stderr, "devauthority: serving at", issuer, "(clients stella-cli, stella-ci, pack-approver; user operator)")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = srv.Close()
}
