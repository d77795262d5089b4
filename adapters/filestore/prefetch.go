package filestore

import (
	"context"

	"github.com/stellaops/stella/domain"
)

// keyRead is a keychain read under way.
type keyRead struct {
	done chan struct{}
	enc  domain.Secret
	err  error
}

// Prefetch starts, in the background, getting the key that opens key's
// session file, so that work overlaps with the rest of the command's
// start-up instead of following it: the keychain read of its data key
// (round trips through two other processes), or the scrypt derivation
// (about 75 ms of one core) when the passphrase is at hand. It does
// nothing without a session file of this store's kind: then no command
// will need the key, and a locked keyring must not ask to be unlocked for
// nothing. Load and Save take the work over.
func (s *Store) Prefetch(ctx context.Context, key domain.SessionKey) {
	b, err := readBounded(s.path(key), s.warn)
	if err != nil {
		return
	}
	h, _, _, err := parse(b)
	if err != nil || h.KDF != s.mode() {
		return
	}
	// A key in the kernel's cache makes the work below unnecessary; Load
	// takes the answer over (and checks that it opens the file).
	if k, _ := s.fromCache(ctx, h, key); k != nil {
		return
	}
	if h.KDF == kdfScrypt {
		if !s.cfg.PassphraseAtHand {
			return
		}
		s.mu.Lock()
		if s.saveSalt == nil && h.N == s.cfg.KDF.N && h.R == s.cfg.KDF.R && h.P == s.cfg.KDF.P {
			s.saveSalt = h.Salt // as Load would: the save after it costs no second scrypt
		}
		s.mu.Unlock()
		// key holds the store's lock while it derives: a Load arriving
		// meanwhile waits for this derivation rather than starting another.
		go func() { _, _ = s.key(ctx, h.Salt, KDFParams{h.N, h.R, h.P}) }()
		return
	}
	id := key.ID()
	r := &keyRead{done: make(chan struct{})}
	s.mu.Lock()
	_, known := s.keys[kdfKeychain+"/"+id]
	if known || s.reads[id] != nil {
		s.mu.Unlock()
		return
	}
	s.reads[id] = r
	s.mu.Unlock()
	go func() {
		defer close(r.done)
		r.enc, r.err = s.cfg.DataKeys.Get(ctx, id)
	}()
}

// readKey reads a session's data key from the keychain, taking over a
// read Prefetch started.
func (s *Store) readKey(ctx context.Context, id string) (domain.Secret, error) {
	s.mu.Lock()
	r := s.reads[id]
	delete(s.reads, id)
	s.mu.Unlock()
	if r == nil {
		return s.cfg.DataKeys.Get(ctx, id)
	}
	select {
	case <-r.done:
		return r.enc, r.err
	case <-ctx.Done():
		return domain.Secret{}, ctx.Err()
	}
}
