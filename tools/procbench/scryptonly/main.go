// Command scryptonly is the scrypt reference point of `make bench`: a
// process that derives one key with the file store's parameters (N=2^15,
// r=8, p=1) and exits, so `stella auth token` on the file store can be
// compared with the cost it cannot avoid, paid the same way (fresh process,
// fresh 32 MiB).
package main

import (
	"fmt"
	"os"

	"golang.org/x/crypto/scrypt"
)

func main() {
	k, err := scrypt.Key([]byte("passphrase"), make([]byte, 16), 1<<15, 8, 1, 32)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(k))
}
