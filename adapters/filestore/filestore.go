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
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// KDFParams are scrypt's cost parameters.
type KDFParams struct{ N, R, P int }

// DefaultKDF is N=2^15, r=8, p=1: the parameters RFC 7914 and OWASP give
// for interactive logins, about 60–75 ms and 32 MiB here. Paid once per
// process that opens the store, it is invisible next to a network call and
// makes an offline guess at the passphrase cost the same.
var DefaultKDF = KDFParams{N: 1 << 15, R: 8, P: 1}

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

// DataKeys keeps one random data key per session outside the file: the OS
// keychain. Get returns an error matching domain.ErrNotFound when a
// session has no key yet.
type DataKeys interface {
	Get(ctx context.Context, account string) (domain.Secret, error)
	Set(ctx context.Context, account string, key domain.Secret) error
	Delete(ctx context.Context, account string) error
	Service() string
}

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

func storageErr(err error, msg string) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// Not the passphrase: the disk (or the quota) is full.
		return domain.Wrap(domain.KindStorage, err, msg+": no space left", "Free some space on the token cache directory's file system, then run the command again.")
	}
	return domain.Wrap(domain.KindStorage, err, msg,
		"Check STELLA_CACHE_PASSPHRASE, or run `stella auth doctor`; `stella auth logout --force` then a new sign-in replaces the file.")
}

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
	block, _ := aes.NewCipher(k)
	gcm, _ := cipher.NewGCM(block)
	out := gcm.Seal(bytes.Clone(aad), nonce, plain, aad)
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
	entries, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	var keys []domain.SessionKey
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		b, err := readBounded(filepath.Join(s.cfg.Dir, e.Name()), s.warn)
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

// keyUnavailable marks a failure to get the key at all (no passphrase, the
// keychain not answering), as opposed to a key that does not open a file.
type keyUnavailable struct{ error }

func (k keyUnavailable) Unwrap() error { return k.error }

// foreignMode explains a file sealed by the other kind of store.
func foreignMode(p, kdf string) error {
	if kdf == kdfKeychain {
		return domain.ESignIn(domain.KindStorage, "the session file "+p+" is sealed with a key in the OS keychain",
			domain.SignInHint{Before: "Use --token-storage keychain (or auto), or sign in again with ", Flags: " --force", After: "."})
	}
	return domain.ESignIn(domain.KindStorage, "the session file "+p+" is sealed with a passphrase",
		domain.SignInHint{Before: "Use --token-storage file with STELLA_CACHE_PASSPHRASE set, or sign in again with ", Flags: " --force", After: "."})
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

// ensureDir creates the token cache directory if need be and applies
// SPEC §5's rule before anything is written in it.
func (s *Store) ensureDir() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return storageErr(err, "cannot create the token cache directory "+s.cfg.Dir)
	}
	return s.checkDir()
}

// checkDir refuses a cache directory another user owns or can write (they
// could plant or swap the files stella reads and writes), and tightens one
// others can merely read, with a warning. A missing one is fine.
func (s *Store) checkDir() error {
	st, err := os.Stat(s.cfg.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	tighten, err := domain.CheckCacheDir(s.cfg.Dir, domain.DirFacts{IsDir: st.IsDir(), Perm: st.Mode().Perm(), Owner: ownerOf(st), EUID: euid()})
	if err != nil || !tighten {
		return err
	}
	if err := os.Chmod(s.cfg.Dir, 0o700); err != nil {
		return storageErr(err, "the token cache directory "+s.cfg.Dir+" is readable by other users and cannot be tightened")
	}
	s.warn(fmt.Sprintf("the token cache directory %s was readable by other users (mode %#o); tightened to 0700", s.cfg.Dir, st.Mode().Perm()))
	return nil
}

func (s *Store) warn(msg string) {
	if s.cfg.Log != nil {
		s.cfg.Log.Warn(msg)
	}
}

// readBounded reads a session file: never through a symbolic link, only a
// regular file of this user's, at most 1 MiB. A file others can read is
// tightened to 0600, with a warning (warn may be nil).
func readBounded(p string, warn func(string)) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow|nonBlock, 0)
	if err != nil {
		if lst, lerr := os.Lstat(p); lerr == nil && lst.Mode()&os.ModeSymlink != 0 {
			return nil, domain.E(domain.KindStorage, "the session file "+p+" is a symbolic link; stella does not follow links in the token cache",
				"Remove the link (someone else may have planted it), then sign in again.")
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, domain.E(domain.KindStorage, "the session file "+p+" is not a regular file", "Remove it, then sign in again.")
	case ownerOf(st) >= 0 && ownerOf(st) != euid():
		return nil, domain.E(domain.KindStorage, fmt.Sprintf("the session file %s belongs to another user (uid %d)", p, ownerOf(st)),
			"Remove it (someone else may have planted it), then sign in again.")
	case st.Mode().Perm()&0o077 != 0:
		if err := f.Chmod(0o600); err != nil {
			return nil, err
		}
		if warn != nil {
			warn(fmt.Sprintf("the session file %s was readable by other users (mode %#o); tightened to 0600", p, st.Mode().Perm()))
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, errors.New("file larger than 1 MiB")
	}
	return b, nil
}

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

// writeAtomic writes via a temporary file, fsync, rename and a directory
// fsync, so a crash leaves either the old file or the new one, never half.
func writeAtomic(p string, data []byte) (err error) {
	dir := filepath.Dir(p)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return storageErr(err, "cannot write in the token cache directory "+dir)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return storageErr(err, "cannot protect the session file")
	}
	if _, err = tmp.Write(data); err != nil {
		return storageErr(err, "cannot write the session file")
	}
	if err = tmp.Sync(); err != nil {
		return storageErr(err, "cannot flush the session file")
	}
	if err = tmp.Close(); err != nil {
		return storageErr(err, "cannot write the session file")
	}
	if err = os.Rename(tmp.Name(), p); err != nil {
		return storageErr(err, "cannot replace the session file")
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

var _ ports.Quarantiner = (*Store)(nil)

// Quarantine moves a session's file aside; a missing file is ("", nil).
func (s *Store) Quarantine(_ context.Context, key domain.SessionKey) (string, error) {
	if _, err := os.Stat(s.path(key)); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return Quarantine(s.path(key), time.Now())
}

// Quarantine moves a bad file aside as <path>.corrupt-<time>, never deleting
// it, and returns the new name.
func Quarantine(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i < 100; i++ {
		to := base
		if i > 1 {
			to = fmt.Sprintf("%s-%d", base, i)
		}
		// A hard link never replaces an existing file, so an earlier
		// quarantined file with the same second is never overwritten.
		err := os.Link(path, to)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			// No hard links here (some file systems): rename, having checked.
			if _, serr := os.Lstat(to); serr == nil {
				continue
			}
			if err := os.Rename(path, to); err != nil {
				return "", storageErr(err, "cannot move "+path+" aside")
			}
			return to, nil
		}
		if err := os.Remove(path); err != nil {
			return "", storageErr(err, "cannot move "+path+" aside")
		}
		return to, nil
	}
	return "", storageErr(nil, "cannot move "+path+" aside: too many quarantined copies")
}

// Inspect opens every session file in the directory, for `auth doctor`. A
// file that is not a stella session, or that this store's key does not
// open (tampered, truncated, another format version, a wrong passphrase),
// is moved aside and named; a file sealed by the other kind of store is
// reported but left alone, since that store can still read it.
func (s *Store) Inspect(ctx context.Context) ([]ports.SessionFile, error) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	var out []ports.SessionFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		f := ports.SessionFile{Path: filepath.Join(s.cfg.Dir, e.Name())}
		b, err := readBounded(f.Path, s.warn)
		if err != nil {
			f.Err = storageErr(err, "cannot read "+f.Path)
			out = append(out, f)
			continue
		}
		h, _, _, perr := parse(b)
		if perr == nil {
			f.Key = domain.SessionKey{Profile: h.Profile, Issuer: h.Issuer, ClientID: h.ClientID}
		}
		switch {
		case perr != nil:
			f.Err = storageErr(nil, "not a stella session this version can read ("+perr.Error()+")")
		case f.Key.ID()+suffix != e.Name():
			f.Err = storageErr(nil, "its header names another session")
		case h.KDF != s.mode():
			f.Err = foreignMode(f.Path, h.KDF)
			out = append(out, f)
			continue
		default:
			if _, err := s.Load(ctx, f.Key); err != nil {
				var ku keyUnavailable
				if errors.As(err, &ku) || domain.KindOf(err) != domain.KindStorage || ctx.Err() != nil {
					// No passphrase, the keychain down: nothing to conclude
					// about the file itself.
					return out, err
				}
				f.Err = err
			}
		}
		if f.Err != nil {
			if f.MovedTo, err = Quarantine(f.Path, time.Now()); err != nil {
				return out, err
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// CheckDir reports whether dir (the token cache) is the user's alone; a
// missing directory is fine.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return storageErr(err, "cannot read the token cache directory "+dir)
	}
	tighten, err := domain.CheckCacheDir(dir, domain.DirFacts{IsDir: st.IsDir(), Perm: st.Mode().Perm(), Owner: ownerOf(st), EUID: euid()})
	if err != nil {
		return err
	}
	if tighten {
		// Use tightens it with a warning; the doctor reports it.
		return domain.E(domain.KindStorage, fmt.Sprintf("the token cache directory %s is open to other users (mode %#o)", dir, st.Mode().Perm()),
			"Run: chmod 700 "+domain.ShellQuote(dir))
	}
	return nil
}
