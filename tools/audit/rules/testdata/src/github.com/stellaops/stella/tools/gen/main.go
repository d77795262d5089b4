// Command gen is a tool: its main package may exit.
package main

import (
	"log"
	"os"
)

func main() {
	if len(os.Args) > 3 {
		log.Fatal("usage")
	}
	os.Exit(0)
}
