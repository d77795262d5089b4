package filestore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// fastKDF keeps the suite quick; the format records the parameters, so
// production files use DefaultKDF through the same code.
var fastKDF = filestore.KDFParams{N: 1 << 4, R: 8, P: 1}

func passphrase(p string) func(context.Context) (domain.Secret, error) {
	return func(context.Context) (domain.Secret, error) { return domain.NewSecret(p), nil }
}

func newStore(dir, pass string) *filestore.Store {
	return filestore.New(filestore.Config{Dir: dir, Passphrase: passphrase(pass), KDF: fastKDF})
}

func TestContract(t *testing.T) {
	storetest.Run(t, "file", func(t *testing.T) ports.SessionStore { return newStore(t.TempDir(), "pass") })
	storetest.Run(t, "sealed-by-data-key", func(t *testing.T) ports.SessionStore {
		return filestore.New(filestore.Config{Dir: t.TempDir(), DataKeys: &mapKeys{m: map[string]string{}}})
	})
}

// mapKeys stands in for the keychain (cmd/stella runs the same contract
// against the real one).
type mapKeys struct {
	mu   sync.Mutex
	m    map[string]string
	gets int
}

func (k *mapKeys) Get(_ context.Context, a string) (domain.Secret, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gets++
	v, ok := k.m[a]
	if !ok {
		return domain.Secret{}, domain.ErrNotFound
	}
	return domain.NewSecret(v), nil
}

func (k *mapKeys) Set(_ context.Context, a string, v domain.Secret) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[a] = v.Reveal()
	return nil
}

func (k *mapKeys) Delete(_ context.Context, a string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, a)
	return nil
}

func (k *mapKeys) Service() string { return "test" }

func TestDataKeyMode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := &mapKeys{m: map[string]string{}}
	if err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Save(ctx, storetest.Session(key, 16<<10, 1)); err != nil {
		t.Fatal(err)
	}
	if len(keys.m[key.ID()]) > 64 {
		t.Fatalf("the keychain item is %d bytes; only a small data key belongs there", len(keys.m[key.ID()]))
	}
	// A new process: one keychain read for a load and the save after it.
	keys.gets = 0
	st := filestore.New(filestore.Config{Dir: dir, DataKeys: keys})
	s, err := st.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if keys.gets != 1 {
		t.Errorf("keychain reads = %d, want 1", keys.gets)
	}
	// The other kind of store says what the file is, and leaves it alone.
	p := filepath.Join(dir, key.ID()+".session")
	before, _ := os.ReadFile(p)
	_, err = newStore(dir, "pass").Load(ctx, key)
	if domain.KindOf(err) != domain.KindStorage || !strings.Contains(err.Error(), "sealed with a key in the OS keychain") {
		t.Errorf("passphrase store on a keychain file: %v", err)
	}
	after, _ := os.ReadFile(p)
	if !bytes.Equal(before, after) {
		t.Error("the file changed")
	}
	// A lost keychain item is a storage error, not a crash or a silent loss.
	delete(keys.m, key.ID())
	if _, err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Load(ctx, key); domain.KindOf(err) != domain.KindStorage {
		t.Errorf("lost data key: %v", err)
	}
	// A wrong key does not open the file.
	keys.m[key.ID()] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if _, err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Load(ctx, key); domain.KindOf(err) != domain.KindStorage {
		t.Errorf("wrong data key: %v", err)
	}
	// Delete removes the file and the key.
	keys.m[key.ID()] = "x"
	if err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.m[key.ID()]; ok {
		t.Error("Delete left the data key")
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Error("Delete left the file")
	}
}

var key = domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}

func saved(t *testing.T) (dir, path string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "tokens")
	if err := newStore(dir, "right").Save(context.Background(), storetest.Session(key, 2000, 1)); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, key.ID()+".session")
}

func TestModesAndNoTempFiles(t *testing.T) {
	dir, path := saved(t)
	st, _ := os.Stat(dir)
	fst, _ := os.Stat(path)
	if st.Mode().Perm() != 0o700 || fst.Mode().Perm() != 0o600 {
		t.Fatalf("dir %#o file %#o", st.Mode().Perm(), fst.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("files left: %v", entries)
	}
	b, _ := os.ReadFile(path)
	for _, secret := range []string{"rt-1", "private", "id.token.value", "at-1-"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%q in plaintext on disk", secret)
		}
	}
}

// Wrong passphrase, tampering, truncation, foreign or future files: a
// storage error (exit 18) and the file byte-for-byte unchanged.
func TestUnreadableFilesAreStorageErrorsAndUntouched(t *testing.T) {
	cases := []struct {
		name   string
		pass   string
		mangle func([]byte) []byte
		msg    string
	}{
		{"wrong passphrase", "wrong", nil, "wrong passphrase or the file was modified"},
		{"flipped ciphertext byte", "right", func(b []byte) []byte { b[len(b)-5] ^= 1; return b }, "wrong passphrase or the file was modified"},
		{"flipped header byte", "right", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"profile":"default"`))
			b[i+11] = 'D'
			return b
		}, "belongs to another session"},
		{"header tampered consistently", "right", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"r":8`), []byte(`"r":9`), 1)
		}, "wrong passphrase or the file was modified"},
		{"truncated", "right", func(b []byte) []byte { return b[:len(b)/2] }, "wrong passphrase or the file was modified"},
		{"truncated header", "right", func(b []byte) []byte { return b[:20] }, "not a stella session"},
		{"foreign file", "right", func([]byte) []byte { return []byte("{\"access_token\":\"x\"}") }, "not a stella session"},
		{"future version", "right", func(b []byte) []byte { return bytes.Replace(b, []byte(`"v":1`), []byte(`"v":7`), 1) }, "format version 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := saved(t)
			if tc.mangle != nil {
				b, _ := os.ReadFile(path)
				if err := os.WriteFile(path, tc.mangle(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := digest(t, path)
			_, err := newStore(dir, tc.pass).Load(context.Background(), key)
			if domain.KindOf(err) != domain.KindStorage || domain.ExitCodeFor(err) != 18 || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v (kind %v)", err, domain.KindOf(err))
			}
			if strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "rt-1") {
				t.Fatal("secret in the error")
			}
			if digest(t, path) != before {
				t.Fatal("the file was changed")
			}
		})
	}
}

// A file copied onto another session's name is refused.
func TestFileOfAnotherSession(t *testing.T) {
	dir, path := saved(t)
	other := domain.SessionKey{Profile: "x", Issuer: key.Issuer, ClientID: key.ClientID}
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(filepath.Join(dir, other.ID()+".session"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newStore(dir, "right").Load(context.Background(), other); domain.KindOf(err) != domain.KindStorage {
		t.Fatalf("err = %v", err)
	}
}

func TestListNeedsNoPassphrase(t *testing.T) {
	dir, _ := saved(t)
	s := filestore.New(filestore.Config{Dir: dir, KDF: fastKDF, Passphrase: func(context.Context) (domain.Secret, error) {
		return domain.Secret{}, errors.New("must not be asked")
	}})
	keys, err := s.List(context.Background())
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("%v %v", keys, err)
	}
}

func TestNoPassphrase(t *testing.T) {
	dir, _ := saved(t)
	s := filestore.New(filestore.Config{Dir: dir, KDF: fastKDF})
	if _, err := s.Load(context.Background(), key); domain.KindOf(err) != domain.KindStorage || !strings.Contains(domain.HintFor(err), "STELLA_CACHE_PASSPHRASE") {
		t.Fatalf("err = %v", err)
	}
}

func TestLooseDirectoryIsTightened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := newStore(dir, "p").Save(context.Background(), storetest.Session(key, 100, 1)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %#o", st.Mode().Perm())
	}
}

// A save that cannot complete is an error and leaves no temporary file
// behind: here the session's name is taken by a directory, so the final
// rename fails after the temporary file was written.
func TestFailedWriteLeavesNothing(t *testing.T) {
	dir, path := saved(t)
	before := digest(t, path)
	other := domain.SessionKey{Profile: "blocked", Issuer: key.Issuer, ClientID: key.ClientID}
	if err := os.Mkdir(filepath.Join(dir, other.ID()+".session"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := newStore(dir, "right").Save(context.Background(), storetest.Session(other, 100, 2))
	if domain.KindOf(err) != domain.KindStorage {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 || digest(t, path) != before {
		t.Fatalf("a failed save changed the directory: %v", entries)
	}
}

func TestQuarantine(t *testing.T) {
	_, path := saved(t)
	to, err := filestore.Quarantine(path, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	if err != nil || !strings.HasSuffix(to, ".session.corrupt-20261122T120000Z") {
		t.Fatalf("%s %v", to, err)
	}
	if _, err := os.Stat(to); err != nil {
		t.Fatal("quarantined file is gone")
	}
}

func digest(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// BenchmarkLoad is one process's first load with production parameters
// (scrypt N=2^15 dominates), a load with the derived key cached, and the
// memory store as the floor.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s := filestore.New(filestore.Config{Dir: dir, Passphrase: passphrase("p"), KDF: filestore.DefaultKDF})
	if err := s.Save(ctx, storetest.Session(key, 4000, 1)); err != nil {
		b.Fatal(err)
	}
	b.Run("file-first-load-scrypt-N32768", func(b *testing.B) {
		for b.Loop() {
			fresh := filestore.New(filestore.Config{Dir: dir, Passphrase: passphrase("p"), KDF: filestore.DefaultKDF})
			if _, err := fresh.Load(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("file-load-key-cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Load(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestPrefetch(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		sealed    bool // a keychain-sealed session file is there
		passStore bool // the store seals with a passphrase instead
		wantReads int  // keychain reads by Prefetch and a Load and Save after it
	}{
		{name: "sealed session: one read, taken over by Load", sealed: true, wantReads: 1},
		{name: "no session file: nothing read ahead", wantReads: 0},
		{name: "passphrase store: nothing to read", sealed: true, passStore: true, wantReads: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			keys := &mapKeys{m: map[string]string{}}
			if tc.sealed {
				if err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Save(ctx, storetest.Session(key, 2000, 1)); err != nil {
					t.Fatal(err)
				}
			}
			keys.gets = 0
			st := filestore.New(filestore.Config{Dir: dir, DataKeys: keys})
			if tc.passStore {
				st = newStore(dir, "pass")
			}
			st.Prefetch(ctx, key)
			if tc.sealed && !tc.passStore {
				s, err := st.Load(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Save(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			keys.mu.Lock()
			defer keys.mu.Unlock()
			if keys.gets != tc.wantReads {
				t.Errorf("keychain reads = %d, want %d", keys.gets, tc.wantReads)
			}
		})
	}
}

// TestPrefetchedKeyDiesWithDelete: a key read ahead and then deleted (a
// sign-out) must not seal the next session, or no later process could
// open it.
func TestPrefetchedKeyDiesWithDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := &mapKeys{m: map[string]string{}}
	if err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Save(ctx, storetest.Session(key, 2000, 1)); err != nil {
		t.Fatal(err)
	}
	st := filestore.New(filestore.Config{Dir: dir, DataKeys: keys})
	st.Prefetch(ctx, key)
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, storetest.Session(key, 2000, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys}).Load(ctx, key); err != nil {
		t.Fatalf("a new process cannot open the session saved after the sign-out: %v", err)
	}
}

// TestKeptKeyGoneStale: a long-running process holds a session's data
// key; another process signs out and in again, sealing the file with a
// new key. The first process reads the new key instead of failing.
func TestKeptKeyGoneStale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := &mapKeys{m: map[string]string{}}
	long := filestore.New(filestore.Config{Dir: dir, DataKeys: keys})
	if err := long.Save(ctx, storetest.Session(key, 2000, 1)); err != nil {
		t.Fatal(err)
	}
	other := filestore.New(filestore.Config{Dir: dir, DataKeys: keys})
	if err := other.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	want := storetest.Session(key, 2000, 2)
	if err := other.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := long.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load with a stale kept key: %v", err)
	}
	if got.Access.Value.Reveal() != want.Access.Value.Reveal() {
		t.Error("Load returned another session than the one saved")
	}
	// A key that is current and still does not open the file is tampering:
	// reported, not retried forever.
	p := filepath.Join(dir, key.ID()+".session")
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := long.Load(ctx, key); domain.KindOf(err) != domain.KindStorage {
		t.Fatalf("tampered file: %v, want a storage error", err)
	}
}

// Prefetch derives a passphrase key ahead only when the passphrase is at
// hand: a passphrase that must be asked for is asked when needed, in the
// open, never from a background goroutine.
func TestPrefetchScrypt(t *testing.T) {
	ctx := context.Background()
	for _, atHand := range []bool{false, true} {
		dir, _ := saved(t)
		var asked atomic.Int32
		st := filestore.New(filestore.Config{Dir: dir, KDF: fastKDF, PassphraseAtHand: atHand,
			Passphrase: func(context.Context) (domain.Secret, error) { asked.Add(1); return domain.NewSecret("right"), nil }})
		st.Prefetch(ctx, key)
		if !atHand {
			time.Sleep(20 * time.Millisecond) // room for a wrongly started derivation to ask
			if n := asked.Load(); n != 0 {
				t.Fatalf("a passphrase that is not at hand was asked for ahead (%d times)", n)
			}
		}
		s, err := st.Load(ctx, key)
		if err != nil {
			t.Fatalf("at hand %v: %v", atHand, err)
		}
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		if n := asked.Load(); n != 1 {
			t.Errorf("at hand %v: passphrase asked %d times, want 1", atHand, n)
		}
	}
}

// A person may retry a wrong passphrase: three tries in all, then 18 with
// a hint that names where the passphrase came from; a new one is asked
// through NewPassphrase.
func TestPassphraseRetryAndNew(t *testing.T) {
	dir := t.TempDir()

	var newAsked int
	s := filestore.New(filestore.Config{Dir: dir, KDF: fastKDF, Passphrase: passphrase("unused"),
		NewPassphrase: func(context.Context) (domain.Secret, error) { newAsked++; return domain.NewSecret("right"), nil }})
	if err := s.Save(context.Background(), storetest.Session(key, 100, 1)); err != nil || newAsked != 1 {
		t.Fatalf("save: %v, new passphrase asked %d times", err, newAsked)
	}
	cases := []struct {
		name    string
		retries []string
		ok      bool
		asked   []int
	}{
		{"second try", []string{"right"}, true, []int{2}},
		{"third try", []string{"bad", "right"}, true, []int{2, 3}},
		{"three wrong", []string{"bad", "worse", "never"}, false, []int{2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var asked []int
			st := filestore.New(filestore.Config{Dir: dir, KDF: fastKDF, Passphrase: passphrase("wrong"), PassphraseFrom: "the prompt (typed)",
				Retry: func(_ context.Context, attempt int) (domain.Secret, error) {
					asked = append(asked, attempt)
					return domain.NewSecret(tc.retries[len(asked)-1]), nil
				}})
			_, err := st.Load(context.Background(), key)
			if (err == nil) != tc.ok || fmt.Sprint(asked) != fmt.Sprint(tc.asked) {
				t.Fatalf("err %v, asked %v", err, asked)
			}
			if !tc.ok && (domain.KindOf(err) != domain.KindStorage || !strings.Contains(domain.HintFor(err), "the prompt (typed)")) {
				t.Fatalf("err %v hint %q", err, domain.HintFor(err))
			}
		})
	}
}

// Reserve claims real space (a written, synced file as large as the
// session plus a margin); the save gives it back, and so does release.
func TestReserve(t *testing.T) {
	dir := t.TempDir()
	s := newStore(dir, "pass")
	key := domain.SessionKey{Profile: "p", Issuer: "https://a", ClientID: "c"}
	ctx := context.Background()
	if err := s.Save(ctx, storetest.Session(key, 2000, 1)); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, key.ID()+".session"))
	release, err := s.Reserve(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	reserved, _ := filepath.Glob(filepath.Join(dir, "."+key.ID()+".reserve-*"))
	if len(reserved) != 1 {
		t.Fatalf("reservations %v", reserved)
	}
	if r, _ := os.Stat(reserved[0]); r.Size() < st.Size() {
		t.Fatalf("reserved %d bytes for a %d-byte session", r.Size(), st.Size())
	}
	if err := s.Save(ctx, storetest.Session(key, 2000, 2)); err != nil {
		t.Fatal(err)
	}
	release() // after the save: nothing left to give back, and no harm
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	// A crashed process's reservation is cleared by the next one.
	_ = os.WriteFile(filepath.Join(dir, "."+key.ID()+".reserve-crashed"), []byte("x"), 0o600)
	release, err = s.Reserve(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
