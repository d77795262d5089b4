package filestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

const (
	magic       = "stella-session\n"
	version     = 1
	suffix      = ".session"
	maxFileSize = 1 << 20
	maxHeader   = 4 << 10
	saltLen     = 16
	keyLen      = 32
	// maxKDFMemory bounds scrypt's memory (128·N·r bytes) for files that
	// say otherwise: 8× what DefaultKDF needs.
	maxKDFMemory = 256 << 20
)

// header is the plain, authenticated part of a session file. It holds no
// secret, so `List` and `auth doctor` can read it without the passphrase.
type header struct {
	V        int    `json:"v"`
	KDF      string `json:"kdf"` // "scrypt" or "keychain"
	N        int    `json:"n,omitempty"`
	R        int    `json:"r,omitempty"`
	P        int    `json:"p,omitempty"`
	Salt     []byte `json:"salt,omitempty"`
	Nonce    []byte `json:"nonce"`
	Profile  string `json:"profile"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
}

const (
	kdfScrypt   = "scrypt"
	kdfKeychain = "keychain"
)

// parse splits a session file into header, additional data and ciphertext.
func parse(b []byte) (header, []byte, []byte, error) {
	var h header
	if !bytes.HasPrefix(b, []byte(magic)) {
		return h, nil, nil, errors.New("no stella-session header")
	}
	rest := b[len(magic):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 || nl > maxHeader {
		return h, nil, nil, errors.New("truncated or oversized header")
	}
	if err := json.Unmarshal(rest[:nl], &h); err != nil {
		return h, nil, nil, errors.New("unreadable header")
	}
	if h.V != version {
		return h, nil, nil, fmt.Errorf("format version %d; this stella reads version %d", h.V, version)
	}
	switch {
	case len(h.Nonce) != 12:
		return h, nil, nil, errors.New("bad nonce")
	case h.KDF == kdfKeychain:
	case h.KDF != kdfScrypt || len(h.Salt) < saltLen || h.N < 2 || h.N&(h.N-1) != 0 ||
		h.N > 1<<20 || h.R < 1 || h.R > 32 || h.P < 1 || h.P > 4 || 128*h.N*h.R > maxKDFMemory:
		// Bounded, so a hostile or corrupt header cannot make stella
		// allocate gigabytes or spin for minutes before failing.
		return h, nil, nil, errors.New("unsupported key-derivation parameters")
	}
	aad := b[:len(magic)+nl+1]
	ct := rest[nl+1:]
	if len(ct) < 16 {
		return h, nil, nil, errors.New("truncated ciphertext")
	}
	return h, aad, ct, nil
}
