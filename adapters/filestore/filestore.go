// Package filestore keeps each session in its own encrypted file.
// AES-256-GCM seals the session with a key that comes from one of two
// places: scrypt over the user's passphrase and a random salt (the `file`
// storage), or a random per-session data key kept in the OS keychain (the
// `keychain` storage, whose items are too small for whole sessions). A
// plain header, authenticated with the ciphertext, carries the format
// version and where the key comes from, so both can change later. Writes
// are atomic; nothing is ever stored in plaintext.
package filestore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Config says where the store lives and where its keys come from: a
// passphrase, or, when DataKeys is set, the keychain.
type Config struct {
	Dir        string
	Passphrase func(ctx context.Context) (domain.Secret, error)
	KDF        KDFParams
	// PassphraseAtHand says Passphrase answers without asking anyone (it
	// is configured), so Prefetch may derive a key with it ahead of need.
	PassphraseAtHand bool
	// NewPassphrase, when set, asks for a passphrase nothing is sealed with
	// yet (a first save): typed twice, since a typo would lock the session.
	NewPassphrase func(ctx context.Context) (domain.Secret, error)
	// Retry, when set, asks again after a passphrase that did not open a
	// session (attempt 2 and 3); nil when the passphrase is configured.
	Retry func(ctx context.Context, attempt int) (domain.Secret, error)
	// PassphraseFrom says where the passphrase comes from, for hints
	// ("STELLA_CACHE_PASSPHRASE_FILE (/run/secrets/pp)", "typed at the prompt").
	PassphraseFrom string
	DataKeys       DataKeys
	Reason         string // why this store was chosen, for `auth status`
	// KeyCache, when set, keeps the key that opened or sealed a session
	// file outside the process for a while (the kernel keyring), so the
	// next command within KeyCacheTTL neither derives it nor reads the
	// keychain. nil: no key cache.
	KeyCache KeyCache
	Log      *slog.Logger // -v: where each key came from; nil logs nothing
}

// Store is the encrypted file store.
type Store struct {
	cfg Config

	mu         sync.Mutex
	passphrase *domain.Secret
	keys       map[string][]byte   // derived keys by salt+params, so a load and a save cost one scrypt
	reads      map[string]*keyRead // keychain reads started ahead by Prefetch, by session ID
	reserved   map[string]string   // space reserved for a session's next save (Reserve), by session ID
	saveSalt   []byte
	cached     map[string]cachedKey            // key-cache lookups by cache name, so Prefetch and Load ask once
	kcStatus   map[string]ports.KeyCacheStatus // what the key cache did for each session, by session ID
}

// New returns a store; it does no I/O.
func New(cfg Config) *Store {
	if cfg.KDF == (KDFParams{}) {
		cfg.KDF = DefaultKDF
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Store{cfg: cfg, keys: map[string][]byte{}, reads: map[string]*keyRead{},
		cached: map[string]cachedKey{}, kcStatus: map[string]ports.KeyCacheStatus{}}
}

var _ ports.SessionStore = (*Store)(nil)

// Info describes the store.
func (s *Store) Info() ports.StoreInfo {
	if s.cfg.DataKeys != nil {
		return ports.StoreInfo{Kind: domain.StorageKeychain, Label: "OS keychain",
			Location: s.cfg.DataKeys.Service() + " (data keys), " + s.cfg.Dir + " (sealed sessions)", Reason: s.cfg.Reason}
	}
	return ports.StoreInfo{Kind: domain.StorageFile, Label: "encrypted file", Location: s.cfg.Dir, Reason: s.cfg.Reason}
}

// mode is the kind of key this store seals with.
func (s *Store) mode() string {
	if s.cfg.DataKeys != nil {
		return kdfKeychain
	}
	return kdfScrypt
}

func (s *Store) path(key domain.SessionKey) string { return filepath.Join(s.cfg.Dir, key.ID()+suffix) }

// Load reads and decrypts a session. Any failure leaves the file untouched.
func (s *Store) Load(ctx context.Context, key domain.SessionKey) (domain.Session, error) {
	p := s.path(key)
	if err := s.checkDir(); err != nil {
		return domain.Session{}, err
	}
	b, err := readBounded(p, s.warn)
	if errors.Is(err, os.ErrNotExist) {
		return domain.Session{}, fmt.Errorf("session %s: %w", key.ID(), domain.ErrNotFound)
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return domain.Session{}, err
	}
	if err != nil {
		return domain.Session{}, storageErr(err, "cannot read the session file "+p)
	}
	h, aad, ct, err := parse(b)
	if err != nil {
		return domain.Session{}, storageErr(nil, fmt.Sprintf("the session file %s is not a stella session (%s)", p, err))
	}
	if h.Profile != key.Profile || h.Issuer != key.Issuer || h.ClientID != key.ClientID {
		return domain.Session{}, storageErr(nil, "the session file "+p+" belongs to another session")
	}
	if h.KDF != s.mode() {
		return domain.Session{}, foreignMode(p, h.KDF)
	}
	plain, err := s.openCached(ctx, h, key, p, aad, ct)
	if plain == nil {
		plain, err = s.openFresh(ctx, h, key, p, aad, ct)
	}
	if err != nil {
		return domain.Session{}, err
	}
	sess, err := domain.DecodeSession(plain)
	if err != nil {
		return domain.Session{}, err
	}
	if sess.Key != key {
		return domain.Session{}, storageErr(nil, "the session file "+p+" belongs to another session")
	}
	s.mu.Lock()
	if h.KDF == kdfScrypt && s.saveSalt == nil && h.N == s.cfg.KDF.N && h.R == s.cfg.KDF.R && h.P == s.cfg.KDF.P {
		s.saveSalt = h.Salt
	}
	s.mu.Unlock()
	return sess, nil
}

// openCached opens a session file with the key the key cache holds for
// it; nil (and no error) when there is none, or when it does not open the
// file — then the entry is dropped, and the caller derives the key (or
// reads the keychain) once, as without a cache.
func (s *Store) openCached(ctx context.Context, h header, key domain.SessionKey, p string, aad, ct []byte) ([]byte, error) {
	k, until := s.fromCache(ctx, h, key)
	if k == nil {
		return nil, nil
	}
	plain, err := open(k, h.Nonce, ct, aad)
	if err != nil {
		s.cfg.Log.Debug("key cache: the cached key does not open the session file; dropped it, getting the key afresh", "file", p)
		s.dropCached(h, key)
		return nil, nil
	}
	s.mu.Lock()
	if h.KDF == kdfKeychain {
		s.keys[kdfKeychain+"/"+key.ID()] = k
	} else {
		s.keys[saltID(h.Salt, KDFParams{h.N, h.R, h.P})] = k
	}
	s.kcStatus[key.ID()] = ports.KeyCacheStatus{State: ports.KeyCacheUsed, Until: until}
	s.mu.Unlock()
	s.cfg.Log.Debug("key cache: opened the session with the key kept in the kernel keyring; nothing derived, no keychain read",
		"file", p, "until", until.Format(time.RFC3339))
	return plain, nil
}

// openFresh opens a session file with a key derived from the passphrase
// (asked for again after a mistyped one) or read from the keychain, and
// offers that key to the key cache once it has opened the file.
func (s *Store) openFresh(ctx context.Context, h header, key domain.SessionKey, p string, aad, ct []byte) ([]byte, error) {
	var k []byte
	var err error
	kept := false // a data key this process read earlier
	if h.KDF == kdfKeychain {
		kept = s.keptKey(key)
		k, err = s.dataKey(ctx, key, false)
	} else {
		k, err = s.key(ctx, h.Salt, KDFParams{h.N, h.R, h.P})
	}
	if err != nil {
		return nil, err
	}
	plain, err := open(k, h.Nonce, ct, aad)
	if err != nil && kept {
		// The key this process kept may be stale: another process signed
		// out and in again since, sealing the file with a new key.
		s.mu.Lock()
		delete(s.keys, kdfKeychain+"/"+key.ID())
		s.mu.Unlock()
		if k, err = s.dataKey(ctx, key, false); err != nil {
			return nil, err
		}
		plain, err = open(k, h.Nonce, ct, aad)
	}
	// A person who mistyped the passphrase may try again (3 tries in all).
	for attempt := 2; err != nil && h.KDF == kdfScrypt && s.cfg.Retry != nil && attempt <= maxPassphraseTries; attempt++ {
		pp, perr := s.cfg.Retry(ctx, attempt)
		if perr != nil {
			return nil, perr
		}
		s.mu.Lock()
		s.passphrase, s.keys, s.saveSalt = &pp, map[string][]byte{}, nil
		s.mu.Unlock()
		if k, err = s.key(ctx, h.Salt, KDFParams{h.N, h.R, h.P}); err != nil {
			return nil, err
		}
		plain, err = open(k, h.Nonce, ct, aad)
	}
	if err != nil {
		if h.KDF == kdfScrypt && s.cfg.PassphraseFrom != "" {
			return nil, domain.E(domain.KindStorage, "cannot decrypt the session in "+p+": wrong passphrase or the file was modified",
				"The passphrase came from "+s.cfg.PassphraseFrom+"; use the one the session was saved with, or `stella auth logout --force` then sign in again to start over.")
		}
		if h.KDF == kdfKeychain {
			return nil, storageErr(nil, "cannot decrypt the session in "+p+": the keychain's key does not open it, or the file was modified")
		}
		return nil, storageErr(nil, "cannot decrypt the session in "+p+": wrong passphrase or the file was modified")
	}
	s.putCached(ctx, h, key, k)
	return plain, nil
}

// Save encrypts and writes a session atomically.
func (s *Store) Save(ctx context.Context, sess domain.Session) error {
	plain, err := domain.EncodeSession(sess)
	if err != nil {
		return err
	}
	h := header{V: version, KDF: s.mode(), Profile: sess.Key.Profile, Issuer: sess.Key.Issuer, ClientID: sess.Key.ClientID}
	var k []byte
	if h.KDF == kdfKeychain {
		k, err = s.dataKey(ctx, sess.Key, true)
	} else {
		h.N, h.R, h.P = s.cfg.KDF.N, s.cfg.KDF.R, s.cfg.KDF.P
		if h.Salt, err = s.salt(); err == nil {
			k, err = s.keyFor(ctx, h.Salt, s.cfg.KDF, true)
		}
	}
	if err != nil {
		clear(plain)
		return err
	}
	h.Nonce = make([]byte, 12)
	if _, err := rand.Read(h.Nonce); err != nil {
		return storageErr(err, "no randomness for the session file")
	}
	nonce := h.Nonce
	hj, err := json.Marshal(h)
	if err != nil {
		return storageErr(err, "cannot encode the session header")
	}
	aad := append([]byte(magic), append(hj, '\n')...)
	out := seal(k, nonce, plain, aad)
	clear(plain)
	if err := s.ensureDir(); err != nil {
		return err
	}
	// The space Reserve claimed for this save is given back just before
	// the write that takes it over.
	s.unreserve(sess.Key)
	if err := writeAtomic(s.path(sess.Key), out); err != nil {
		return err
	}
	s.putCached(ctx, h, sess.Key, k)
	return nil
}

// Delete removes a session file, and its data key in keychain mode; a
// missing one is fine.
func (s *Store) Delete(ctx context.Context, key domain.SessionKey) error {
	// Signing out ends the key cache's entry for the file too: its key
	// must not outlive the session it opened.
	if b, err := readBounded(s.path(key), nil); err == nil {
		if h, _, _, err := parse(b); err == nil && h.KDF == s.mode() {
			s.dropCached(h, key)
		}
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return storageErr(err, "cannot delete the session file "+s.path(key))
	}
	if s.cfg.DataKeys == nil {
		return nil
	}
	s.mu.Lock()
	delete(s.keys, kdfKeychain+"/"+key.ID())
	delete(s.reads, key.ID()) // a read started earlier would bring back the deleted key
	s.mu.Unlock()
	return s.cfg.DataKeys.Delete(ctx, key.ID())
}

// List reads the headers of every session file; no passphrase needed.
func (s *Store) List(context.Context) ([]domain.SessionKey, error) {
	names, err := s.sessionFiles()
	if err != nil {
		return nil, err
	}
	var keys []domain.SessionKey
	for _, name := range names {
		b, err := readBounded(filepath.Join(s.cfg.Dir, name), s.warn)
		if err != nil {
			continue
		}
		if h, _, _, err := parse(b); err == nil && h.KDF == s.mode() {
			keys = append(keys, domain.SessionKey{Profile: h.Profile, Issuer: h.Issuer, ClientID: h.ClientID})
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	return keys, nil
}

// sessionFiles are the names of the session files in the cache directory
// (none when it does not exist yet), for List and Inspect.
func (s *Store) sessionFiles() ([]string, error) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
