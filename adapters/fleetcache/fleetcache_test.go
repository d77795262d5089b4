package fleetcache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

var binding = Binding{Issuer: "https://authority.example.com", ClientID: "stella-ci", Scopes: domain.Scopes{"packs.read", "packs.run"}, Mode: domain.AuthModeDPoP}

func TestDeriveKeysBindsEverything(t *testing.T) {
	secret := domain.NewSecret("stella-ci-secret")
	base, err := deriveKeys(secret, binding)
	if err != nil {
		t.Fatal(err)
	}
	// Scope order does not matter; everything else does.
	reordered := binding
	reordered.Scopes = domain.Scopes{"packs.run", "packs.read", "packs.run"}
	if k, _ := deriveKeys(secret, reordered); k.entry != base.entry {
		t.Errorf("scope order changed the entry name")
	}
	for name, tc := range map[string]struct {
		secret string
		b      func(Binding) Binding
	}{
		"secret":   {"other-secret", func(b Binding) Binding { return b }},
		"issuer":   {"", func(b Binding) Binding { b.Issuer = "https://other.example.com"; return b }},
		"client":   {"", func(b Binding) Binding { b.ClientID = "other"; return b }},
		"scopes":   {"", func(b Binding) Binding { b.Scopes = domain.Scopes{"packs.read"}; return b }},
		"audience": {"", func(b Binding) Binding { b.Audience = "https://task-runner.example.com"; return b }},
		"mode":     {"", func(b Binding) Binding { b.Mode = domain.AuthModeBearer; return b }},
	} {
		t.Run(name, func(t *testing.T) {
			s := secret
			if tc.secret != "" {
				s = domain.NewSecret(tc.secret)
			}
			k, err := deriveKeys(s, tc.b(binding))
			if err != nil {
				t.Fatal(err)
			}
			if k.entry == base.entry || k.lock == base.lock {
				t.Fatalf("same entry name for another %s", name)
			}
			sealed, _ := base.seal([]byte("session"))
			if _, err := k.open(sealed); err == nil {
				t.Fatalf("an entry sealed for one binding opened with another %s", name)
			}
		})
	}
	for _, word := range []string{"stella-ci", "packs", "authority"} {
		if strings.Contains(base.entry, word) {
			t.Errorf("entry name %q reveals %q", base.entry, word)
		}
	}
	if _, err := deriveKeys(domain.Secret{}, binding); err == nil {
		t.Error("derived a key from no credential")
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := deriveKeys(domain.NewSecret("s"), binding)
	blob, err := k.seal([]byte("plain session"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.open(blob); err != nil || string(got) != "plain session" {
		t.Fatalf("open = %q, %v", got, err)
	}
	for i := len(sealMagic); i < len(blob); i += 3 {
		bad := append([]byte(nil), blob...)
		bad[i] ^= 0x80
		if _, err := k.open(bad); err == nil {
			t.Fatalf("a flipped bit at %d still opened", i)
		}
	}
	for _, b := range [][]byte{nil, []byte("garbage"), sealMagic, blob[:len(blob)-1]} {
		if _, err := k.open(b); err == nil {
			t.Errorf("%q opened", b)
		}
	}
	// The same entry copied under another name does not open there.
	other := k
	other.aad = append([]byte("stella:{x}:session\x00"), binding.canonical()...)
	if _, err := other.open(blob); err == nil {
		t.Error("an entry opened under another name")
	}
}

// redisServer starts a real redis-server for the test, or skips saying
// why (never in CI).
func redisServer(t *testing.T, extra ...string) (addr string, stop func(sig os.Signal)) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; CI must run these tests (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command("redis-server", append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Signal(sigcont)); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(line, "+PONG") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	return addr, func(sig os.Signal) { _ = cmd.Process.Signal(sig) }
}

var key = domain.SessionKey{Profile: "default", Issuer: binding.Issuer, ClientID: binding.ClientID}

func newStore(addr string, warned *atomic.Int32) *Store {
	return New(Config{URL: "redis://" + addr, Key: key, Binding: binding, LockTTL: 2 * time.Second, OpTimeout: 300 * time.Millisecond,
		Credential: func() (domain.Secret, error) { return domain.NewSecret("stella-ci-secret"), nil },
		Warn:       func(string) { warned.Add(1) }})
}

func session(now time.Time, ttl time.Duration) domain.Session {
	return domain.Session{Key: key, Grant: domain.GrantClientCredentials,
		Access:     domain.Token{Value: domain.NewSecret("at-1"), Type: domain.TokenTypeDPoP, IssuedAt: now, Expiry: now.Add(ttl)},
		Constraint: domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: "jkt"}, DPoPKey: domain.NewSecret(`{"kty":"EC","d":"x"}`), Created: now}
}

func TestStoreSharesAcrossProcesses(t *testing.T) {
	addr, _ := redisServer(t)
	ctx := context.Background()
	var warned atomic.Int32
	a, b := newStore(addr, &warned), newStore(addr, &warned)
	if _, err := a.Load(ctx, key); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("empty cache: %v", err)
	}
	if err := a.Save(ctx, session(time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	other := key
	other.Profile = "ci" // another runner's profile name: the same client's entry
	b.cfg.Key = other
	got, err := b.Load(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != other || got.Access.Value.Reveal() != "at-1" || got.DPoPKey.Reveal() == "" {
		t.Fatalf("loaded %+v", got)
	}
	// The entry expires when the token becomes due, not at expiry.
	ttl := a.client.PTTL(ctx, a.keys.entry).Val()
	if lead := session(time.Now(), time.Hour).Access.RefreshLead(); ttl > time.Hour-lead || ttl < time.Hour-lead-5*time.Second {
		t.Errorf("entry TTL %s, want about %s", ttl, time.Hour-lead)
	}
	// A person's session is refused.
	p := session(time.Now(), time.Hour)
	p.Grant = domain.GrantAuthorizationCode
	if err := a.Save(ctx, p); domain.KindOf(err) != domain.KindUsage {
		t.Errorf("person's session: %v", err)
	}
	if err := a.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(ctx, other); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if warned.Load() != 0 {
		t.Errorf("warned %d times on a healthy cache", warned.Load())
	}
}

func TestLockIsSingleFlight(t *testing.T) {
	addr, _ := redisServer(t)
	ctx := context.Background()
	var warned atomic.Int32
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newStore(addr, &warned)
			unlock, err := s.Lock(ctx, key)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if most.Load() != 1 || warned.Load() != 0 {
		t.Fatalf("%d holders at once, %d warnings", most.Load(), warned.Load())
	}
	// Only the owner releases: a lock taken over after expiry stays.
	s := newStore(addr, &warned)
	if err := s.init(); err != nil {
		t.Fatal(err)
	}
	s.client.Set(ctx, s.keys.lock, "someone else", time.Minute)
	s.unlock("me")
	if v := s.client.Get(ctx, s.keys.lock).Val(); v != "someone else" {
		t.Fatalf("released another owner's lock: %q", v)
	}
}

func TestPausedCacheIsBypassedOnce(t *testing.T) {
	addr, signal := redisServer(t)
	ctx := context.Background()
	var warned atomic.Int32
	s := newStore(addr, &warned)
	signal(sigstop)
	start := time.Now()
	if _, err := s.Load(ctx, key); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("paused: %v", err)
	}
	unlock, err := s.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := s.Save(ctx, session(time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, key); err != nil || got.Access.Value.Reveal() != "at-1" {
		t.Fatalf("the bypassed store lost the session: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("bypassing took %s", d)
	}
	if warned.Load() != 1 || !strings.Contains(s.Info().Reason, "bypassed: no answer in time") {
		t.Errorf("warned %d times; info %+v", warned.Load(), s.Info())
	}
}
