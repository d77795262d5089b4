// Package keychain is in another module whose path starts like stella's.
package keychain

const Name = "stellar"
