package filestore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stellaops/stella/domain"
)

// FuzzSessionFile feeds arbitrary bytes as a session file: the header
// parser must bound everything it reads, and a load must fail with a
// storage error (or succeed), leave the file untouched, and never panic.
func FuzzSessionFile(f *testing.F) {
	key := domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}
	dir := f.TempDir()
	good := New(Config{Dir: dir, Passphrase: func(context.Context) (domain.Secret, error) { return domain.NewSecret("p"), nil },
		KDF: KDFParams{N: 16, R: 8, P: 1}})
	if err := good.Save(context.Background(), domain.Session{Key: key, Grant: domain.GrantClientCredentials,
		Access: domain.Token{Value: domain.NewSecret("at"), Type: domain.TokenTypeBearer}}); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(filepath.Join(dir, key.ID()+suffix))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte(magic + `{"v":1,"kdf":"scrypt","n":1048576,"r":32,"p":16,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA"}` + "\n0123456789abcdef"))
	f.Add([]byte(magic + `{"v":1,"kdf":"keychain","nonce":"AAAAAAAAAAAAAAAA","profile":"default"}` + "\nxxxxxxxxxxxxxxxxxxxx"))
	f.Add([]byte(magic + `{"v":2}` + "\n"))
	f.Add([]byte("not a session"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, aad, ct, err := parse(b)
		if err == nil {
			if !bytes.HasPrefix(b, aad) || len(aad)+len(ct) != len(b) || len(h.Nonce) != 12 {
				t.Fatalf("parse split %d bytes into %d + %d", len(b), len(aad), len(ct))
			}
			if h.KDF == kdfScrypt && 128*h.N*h.R > maxKDFMemory {
				t.Fatalf("accepted scrypt parameters needing %d bytes", 128*h.N*h.R)
			}
		}
		if err != nil || h.KDF != kdfScrypt || h.N > 1<<12 {
			return // loading would only repeat parse's verdict, or run a slow KDF
		}
		d := t.TempDir()
		p := filepath.Join(d, key.ID()+suffix)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st := New(Config{Dir: d, Passphrase: func(context.Context) (domain.Secret, error) { return domain.NewSecret("p"), nil }})
		if _, err := st.Load(context.Background(), key); err != nil && domain.KindOf(err) != domain.KindStorage {
			t.Fatalf("load failed with kind %v: %v", domain.KindOf(err), err)
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(after, b) {
			t.Fatal("a load changed the file")
		}
	})
}
