package filestore

import (
	"context"
	"crypto/rand"

	"golang.org/x/crypto/scrypt"

	"github.com/stellaops/stella/domain"
)

// KDFParams are scrypt's cost parameters.
type KDFParams struct{ N, R, P int }

// DefaultKDF is N=2^15, r=8, p=1: the parameters RFC 7914 and OWASP give
// for interactive logins, about 60–75 ms and 32 MiB here. Paid once per
// process that opens the store, it is invisible next to a network call and
// makes an offline guess at the passphrase cost the same.
var DefaultKDF = KDFParams{N: 1 << 15, R: 8, P: 1}

// salt is the salt new files are sealed with: one per process, so a load
// and the save that follows it cost one scrypt, not two.
func (s *Store) salt() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveSalt == nil {
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, storageErr(err, "no randomness for the session file")
		}
		s.saveSalt = salt
	}
	return s.saveSalt, nil
}

// maxPassphraseTries is how many times a person may type the passphrase.
const maxPassphraseTries = 3

// key derives (or reuses) the AES key for a salt and parameters.
func (s *Store) key(ctx context.Context, salt []byte, p KDFParams) ([]byte, error) {
	return s.keyFor(ctx, salt, p, false)
}

// keyFor is key; fresh says the key seals a new file, so a passphrase not
// yet known is a new one (NewPassphrase).
func (s *Store) keyFor(ctx context.Context, salt []byte, p KDFParams, fresh bool) ([]byte, error) {
	id := saltID(salt, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		return k, nil
	}
	if s.passphrase == nil {
		if s.cfg.Passphrase == nil {
			return nil, keyUnavailable{domain.E(domain.KindStorage, "the encrypted token cache needs a passphrase",
				"Set STELLA_CACHE_PASSPHRASE or STELLA_CACHE_PASSPHRASE_FILE.")}
		}
		ask := s.cfg.Passphrase
		if fresh && s.cfg.NewPassphrase != nil {
			ask = s.cfg.NewPassphrase
		}
		pp, err := ask(ctx)
		if err != nil {
			return nil, keyUnavailable{err}
		}
		if pp.IsZero() {
			hint := "Set a non-empty STELLA_CACHE_PASSPHRASE."
			if s.cfg.PassphraseFrom != "" {
				hint = "The passphrase came from " + s.cfg.PassphraseFrom + "; it may not be empty."
			}
			return nil, keyUnavailable{domain.E(domain.KindStorage, "the token cache passphrase is empty", hint)}
		}
		s.passphrase = &pp
	}
	k, err := scrypt.Key([]byte(s.passphrase.Reveal()), salt, p.N, p.R, p.P, keyLen)
	if err != nil {
		return nil, storageErr(err, "the session file's KDF parameters are not usable")
	}
	s.cfg.Log.Debug("file store: derived the key from the passphrase (scrypt)", "N", p.N, "r", p.R, "p", p.P)
	s.keys[id] = k
	return k, nil
}
