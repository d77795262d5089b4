// Package filestore keeps each session in its own encrypted file: scrypt
// derives a key from the user's passphrase and a random salt, AES-256-GCM
// seals the session, and a plain header (authenticated with the
// ciphertext) carries the format version and KDF parameters so both can
// change later. Writes are atomic; nothing is ever stored in plaintext.
package filestore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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
)

// header is the plain, authenticated part of a session file. It holds no
// secret, so `List` and `auth doctor` can read it without the passphrase.
type header struct {
	V        int    `json:"v"`
	KDF      string `json:"kdf"`
	N        int    `json:"n"`
	R        int    `json:"r"`
	P        int    `json:"p"`
	Salt     []byte `json:"salt"`
	Nonce    []byte `json:"nonce"`
	Profile  string `json:"profile"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
}

// Config says where the store lives and how it gets its passphrase.
type Config struct {
	Dir        string
	Passphrase func(ctx context.Context) (domain.Secret, error)
	KDF        KDFParams
	Reason     string // why this store was chosen, for `auth status`
}

// Store is the encrypted file store.
type Store struct {
	cfg Config

	mu         sync.Mutex
	passphrase *domain.Secret
	keys       map[string][]byte // derived keys by salt+params, so a load and a save cost one scrypt
	saveSalt   []byte
}

// New returns a store; it does no I/O.
func New(cfg Config) *Store {
	if cfg.KDF == (KDFParams{}) {
		cfg.KDF = DefaultKDF
	}
	return &Store{cfg: cfg, keys: map[string][]byte{}}
}

var _ ports.SessionStore = (*Store)(nil)

// Info describes the store.
func (s *Store) Info() ports.StoreInfo {
	return ports.StoreInfo{Kind: domain.StorageFile, Label: "encrypted file", Location: s.cfg.Dir, Reason: s.cfg.Reason}
}

func (s *Store) path(key domain.SessionKey) string { return filepath.Join(s.cfg.Dir, key.ID()+suffix) }

func storageErr(err error, msg string) error {
	return domain.Wrap(domain.KindStorage, err, msg,
		"Check STELLA_CACHE_PASSPHRASE, or run `stella auth doctor`; `stella auth logout --force` then a new sign-in replaces the file.")
}

// Load reads and decrypts a session. Any failure leaves the file untouched.
func (s *Store) Load(ctx context.Context, key domain.SessionKey) (domain.Session, error) {
	p := s.path(key)
	b, err := readBounded(p)
	if errors.Is(err, os.ErrNotExist) {
		return domain.Session{}, fmt.Errorf("session %s: %w", key.ID(), domain.ErrNotFound)
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
	k, err := s.key(ctx, h.Salt, KDFParams{h.N, h.R, h.P})
	if err != nil {
		return domain.Session{}, err
	}
	plain, err := open(k, h.Nonce, ct, aad)
	if err != nil {
		return domain.Session{}, storageErr(nil, "cannot decrypt the session in "+p+": wrong passphrase or the file was modified")
	}
	sess, err := domain.DecodeSession(plain)
	if err != nil {
		return domain.Session{}, err
	}
	if sess.Key != key {
		return domain.Session{}, storageErr(nil, "the session file "+p+" belongs to another session")
	}
	s.mu.Lock()
	if s.saveSalt == nil && h.N == s.cfg.KDF.N && h.R == s.cfg.KDF.R && h.P == s.cfg.KDF.P {
		s.saveSalt = h.Salt
	}
	s.mu.Unlock()
	return sess, nil
}

// Save encrypts and writes a session atomically.
func (s *Store) Save(ctx context.Context, sess domain.Session) error {
	plain, err := domain.EncodeSession(sess)
	if err != nil {
		return err
	}
	s.mu.Lock()
	salt := s.saveSalt
	if salt == nil {
		salt = make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			s.mu.Unlock()
			return storageErr(err, "no randomness for the session file")
		}
		s.saveSalt = salt
	}
	s.mu.Unlock()
	k, err := s.key(ctx, salt, s.cfg.KDF)
	if err != nil {
		return err
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return storageErr(err, "no randomness for the session file")
	}
	h := header{V: version, KDF: "scrypt", N: s.cfg.KDF.N, R: s.cfg.KDF.R, P: s.cfg.KDF.P, Salt: salt, Nonce: nonce,
		Profile: sess.Key.Profile, Issuer: sess.Key.Issuer, ClientID: sess.Key.ClientID}
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
	return writeAtomic(s.path(sess.Key), out)
}

// Delete removes a session file; a missing one is fine.
func (s *Store) Delete(_ context.Context, key domain.SessionKey) error {
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return storageErr(err, "cannot delete the session file "+s.path(key))
	}
	return nil
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
		b, err := readBounded(filepath.Join(s.cfg.Dir, e.Name()))
		if err != nil {
			continue
		}
		if h, _, _, err := parse(b); err == nil {
			keys = append(keys, domain.SessionKey{Profile: h.Profile, Issuer: h.Issuer, ClientID: h.ClientID})
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	return keys, nil
}

// key derives (or reuses) the AES key for a salt and parameters.
func (s *Store) key(ctx context.Context, salt []byte, p KDFParams) ([]byte, error) {
	id := fmt.Sprintf("%x/%d/%d/%d", salt, p.N, p.R, p.P)
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		return k, nil
	}
	if s.passphrase == nil {
		if s.cfg.Passphrase == nil {
			return nil, domain.E(domain.KindStorage, "the encrypted token cache needs a passphrase",
				"Set STELLA_CACHE_PASSPHRASE or STELLA_CACHE_PASSPHRASE_FILE.")
		}
		pp, err := s.cfg.Passphrase(ctx)
		if err != nil {
			return nil, err
		}
		if pp.IsZero() {
			return nil, domain.E(domain.KindStorage, "the token cache passphrase is empty", "Set a non-empty STELLA_CACHE_PASSPHRASE.")
		}
		s.passphrase = &pp
	}
	k, err := scrypt.Key([]byte(s.passphrase.Reveal()), salt, p.N, p.R, p.P, keyLen)
	if err != nil {
		return nil, storageErr(err, "the session file's KDF parameters are not usable")
	}
	s.keys[id] = k
	return k, nil
}

func (s *Store) ensureDir() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return storageErr(err, "cannot create the token cache directory "+s.cfg.Dir)
	}
	st, err := os.Stat(s.cfg.Dir)
	if err != nil {
		return storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		// Others could list (or worse) our session files: tighten it.
		if err := os.Chmod(s.cfg.Dir, 0o700); err != nil {
			return storageErr(err, "the token cache directory "+s.cfg.Dir+" is open to other users and cannot be tightened")
		}
	}
	return nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
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
	if h.KDF != "scrypt" || len(h.Salt) < saltLen || len(h.Nonce) != 12 || h.N < 2 || h.N&(h.N-1) != 0 ||
		h.N > 1<<22 || h.R < 1 || h.R > 32 || h.P < 1 || h.P > 16 {
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

// Quarantine moves a bad file aside as <path>.corrupt-<time>, never deleting
// it, and returns the new name.
func Quarantine(path string, now time.Time) (string, error) {
	to := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(path, to); err != nil {
		return "", storageErr(err, "cannot move "+path+" aside")
	}
	return to, nil
}
