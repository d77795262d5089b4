package filestore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"

	"github.com/stellaops/stella/domain"
)

// DataKeys keeps one random data key per session outside the file: the OS
// keychain. Get returns an error matching domain.ErrNotFound when a
// session has no key yet.
type DataKeys interface {
	Get(ctx context.Context, account string) (domain.Secret, error)
	Set(ctx context.Context, account string, key domain.Secret) error
	Delete(ctx context.Context, account string) error
	Service() string
}

// dataKey fetches a session's data key from the keychain (once per
// process), creating one on the first save. Saves happen under the
// session lock, so two processes never race to create it.
func (s *Store) dataKey(ctx context.Context, key domain.SessionKey, create bool) ([]byte, error) {
	id := kdfKeychain + "/" + key.ID()
	s.mu.Lock()
	k, ok := s.keys[id]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	enc, err := s.readKey(ctx, key.ID())
	if err == nil {
		s.cfg.Log.Debug("keychain: read the session's data key", "account", key.ID())
	}
	switch {
	case errors.Is(err, domain.ErrNotFound) && create:
		k = make([]byte, keyLen)
		if _, err := rand.Read(k); err != nil {
			return nil, storageErr(err, "no randomness for the session key")
		}
		if err := s.cfg.DataKeys.Set(ctx, key.ID(), domain.NewSecret(base64.RawStdEncoding.EncodeToString(k))); err != nil {
			return nil, keyUnavailable{err}
		}
	case errors.Is(err, domain.ErrNotFound):
		return nil, storageErr(nil, "the OS keychain has no key for the session file "+s.path(key))
	case err != nil:
		return nil, keyUnavailable{err}
	default:
		k, err = base64.RawStdEncoding.DecodeString(enc.Reveal())
		if err != nil || len(k) != keyLen {
			return nil, storageErr(nil, "the OS keychain's item for "+key.ID()+" is not a stella key")
		}
	}
	s.mu.Lock()
	s.keys[id] = k
	s.mu.Unlock()
	return k, nil
}

// keptKey reports whether this process holds key's data key from an
// earlier read.
func (s *Store) keptKey(key domain.SessionKey) bool {
	id := kdfKeychain + "/" + key.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[id]
	return ok
}
