package filestore

import (
	"testing"

	"golang.org/x/crypto/scrypt"
)

// The cost DefaultKDF puts on every process that opens the file store.
func BenchmarkScryptDefault(b *testing.B) {
	salt := make([]byte, saltLen)
	for b.Loop() {
		if _, err := scrypt.Key([]byte("passphrase"), salt, DefaultKDF.N, DefaultKDF.R, DefaultKDF.P, keyLen); err != nil {
			b.Fatal(err)
		}
	}
}
