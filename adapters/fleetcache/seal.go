package fleetcache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"

	"golang.org/x/crypto/hkdf"

	"github.com/stellaops/stella/domain"
)

// Binding is what a shared entry is for: one token per client, scope set,
// audience and sender constraint at one Authority. It goes into the key
// derivation, so an entry opens only for exactly this binding.
type Binding struct {
	Issuer   string
	ClientID string
	Scopes   domain.Scopes
	Audience string
	Mode     domain.AuthMode
}

// canonical is the binding as bytes that do not depend on the order the
// scopes were configured in.
func (b Binding) canonical() []byte {
	scopes := slices.Clone(b.Scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	out, _ := json.Marshal(struct {
		V        int      `json:"v"`
		Issuer   string   `json:"iss"`
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scope"`
		Audience string   `json:"aud"`
		Mode     string   `json:"mode"`
	}{1, b.Issuer, b.ClientID, scopes, b.Audience, string(b.Mode)})
	return out
}

// sealMagic starts every entry: the format, so a later version can change
// it and an old stella refuses rather than misreads.
var sealMagic = []byte("stella-fleet-1\x00")

// keys are what one client's credential yields for one binding: the entry
// and lock names (an HMAC: the Redis operator learns neither the client
// nor its scopes, and cannot guess them without the credential) and the
// AES-256-GCM key that seals the entry.
type keys struct {
	entry, lock string
	aad         []byte
	aead        cipher.AEAD
}

// deriveKeys runs HKDF-SHA256 over the client's credential, salted with the
// binding, once per purpose. A runner with another client's secret, or the
// same secret for other scopes or another audience, derives other names and
// another key.
func deriveKeys(credential domain.Secret, b Binding) (keys, error) {
	if credential.IsZero() {
		return keys{}, errors.New("no client credential to derive the shared cache key from")
	}
	binding := b.canonical()
	salt := sha256.Sum256(binding)
	expand := func(info string) []byte {
		out := make([]byte, 32)
		r := hkdf.New(sha256.New, []byte(credential.Reveal()), salt[:], []byte("stella fleetcache v1 "+info))
		_, _ = io.ReadFull(r, out) // 32 bytes never exhaust HKDF-SHA256
		return out
	}
	nameKey := expand("entry name")
	mac := hmac.New(sha256.New, nameKey)
	mac.Write(binding)
	id := hex.EncodeToString(mac.Sum(nil)[:20])
	block, err := aes.NewCipher(expand("seal"))
	if err != nil {
		return keys{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keys{}, err
	}
	// A hash tag ({…}) puts the entry and its lock in one Cluster slot.
	k := keys{entry: "stella:{" + id + "}:session", lock: "stella:{" + id + "}:lock", aead: aead}
	k.aad = append([]byte(k.entry+"\x00"), binding...)
	return k, nil
}

// seal encrypts an encoded session; the entry name and binding are
// authenticated with it, so an entry copied under another name fails.
func (k keys) seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(slices.Clone(sealMagic), nonce...)
	return k.aead.Seal(out, nonce, plain, k.aad), nil
}

var errNotSealed = errors.New("the entry is not a sealed stella session")

// open reverses seal; anything tampered, truncated or sealed under another
// key fails.
func (k keys) open(blob []byte) ([]byte, error) {
	if !bytes.HasPrefix(blob, sealMagic) || len(blob) < len(sealMagic)+k.aead.NonceSize()+k.aead.Overhead() {
		return nil, errNotSealed
	}
	rest := blob[len(sealMagic):]
	nonce, ct := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
	plain, err := k.aead.Open(nil, nonce, ct, k.aad)
	if err != nil {
		return nil, errors.New("the entry does not open with this client's credential (tampered, or sealed for another client)")
	}
	return plain, nil
}
