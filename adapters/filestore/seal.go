package filestore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
)

// seal encrypts plain with AES-256-GCM under key and returns the file:
// aad (the plain header, authenticated too) followed by the ciphertext.
// key is always keyLen bytes here (derived or a checked data key), so the
// cipher cannot fail to build.
func seal(key, nonce, plain, aad []byte) []byte {
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	return gcm.Seal(bytes.Clone(aad), nonce, plain, aad)
}

// open decrypts a file's ciphertext; an error means the key is not the
// one it was sealed with, or the file was modified.
func open(key, nonce, ct, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, nonce, ct, aad)
}
