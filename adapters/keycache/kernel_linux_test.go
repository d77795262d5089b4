//go:build linux

package keycache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stellaops/stella/domain"
)

// inSession runs f on a thread of its own that has joined a new session
// keyring, so the test neither sees nor touches the keys of the user
// running it. The thread ends with f (it is never unlocked), taking its
// keyrings along.
func inSession(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	done := make(chan struct{})
	var skip string
	go func() {
		defer close(done)
		runtime.LockOSThread()
		name := fmt.Sprintf("stella-keycache-test-%d-%d", os.Getpid(), time.Now().UnixNano())
		if _, err := unix.KeyctlJoinSessionKeyring(name); err != nil {
			skip = "this kernel refuses keyrings: " + err.Error()
			return
		}
		f(t)
	}()
	<-done
	if skip != "" {
		t.Skip(skip)
	}
}

func TestPutGetDrop(t *testing.T) {
	inSession(t, func(t *testing.T) {
		c := New(90*time.Second, nil)
		if _, _, err := c.Get("a"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Get before any Put: %v, want not found", err)
		}
		key := bytes.Repeat([]byte{7}, 32)
		until, err := c.Put("a", key)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(until); d < 88*time.Second || d > 90*time.Second {
			t.Errorf("until is %s away, want about 90s", d)
		}
		// Another process (a new cache) finds it; another name does not.
		c2 := New(90*time.Second, nil)
		got, until2, err := c2.Get("a")
		if err != nil || !bytes.Equal(got, key) || !until2.Equal(until) {
			t.Fatalf("Get = %x, %v, %v; want the key until %v", got, until2, err, until)
		}
		if _, _, err := c2.Get("b"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Get(b): %v, want not found", err)
		}
		if err := c2.Drop("a"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := New(time.Minute, nil).Get("a"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Get after Drop: %v, want not found", err)
		}
		if err := c2.Drop("a"); err != nil {
			t.Fatalf("dropping nothing: %v", err)
		}
	})
}

// The permissions are the security model: the keyring of stella's keys is
// the owner's alone, each key a possessor's alone, with a timeout.
func TestPermissionsAndTimeout(t *testing.T) {
	inSession(t, func(t *testing.T) {
		c := New(time.Minute, nil)
		if _, err := c.Put("a", []byte("k")); err != nil {
			t.Fatal(err)
		}
		ring, err := c.keyring(false)
		if err != nil || ring == 0 {
			t.Fatalf("keyring: %d, %v", ring, err)
		}
		d, err := describe(ring)
		if err != nil || d.typ != "keyring" || d.desc != ringName(os.Geteuid()) || d.perm != 0x003f0000 || d.uid != os.Geteuid() {
			t.Fatalf("ring = %+v, %v", d, err)
		}
		id, err := unix.KeyctlSearch(ring, "user", c.description("a"), 0)
		if err != nil {
			t.Fatal(err)
		}
		d, err = describe(id)
		if err != nil || d.perm != 0x2f000000 {
			t.Fatalf("key = %+v, %v; want possessor view, read, write, search, setattr only", d, err)
		}
		if line := procKeysLine(t, id); !bytes.Contains([]byte(line), []byte(" 1m ")) && !bytes.Contains([]byte(line), []byte(" 59s ")) {
			t.Errorf("/proc/keys shows no one-minute timeout: %q", line)
		}
	})
}

func procKeysLine(t *testing.T, id int) string {
	b, err := os.ReadFile("/proc/keys")
	if err != nil {
		t.Skip("no /proc/keys")
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(fmt.Sprintf("%08x ", id))) {
			return string(line)
		}
	}
	t.Fatalf("key %d not in /proc/keys", id)
	return ""
}

// Names are hashed with the uid, and say nothing of what they name.
func TestDescriptions(t *testing.T) {
	a := &Cache{uid: 1000}
	b := &Cache{uid: 1001}
	name := "scrypt\x00/home/op/.stellaops/tokens\x00salt"
	if a.description(name) == b.description(name) {
		t.Error("two users share a description")
	}
	if a.description(name) == a.description(name+"x") {
		t.Error("two names share a description")
	}
	if d := a.description(name); len(d) != len(keyPrefix)+32 || bytes.Contains([]byte(d), []byte("stellaops")) {
		t.Errorf("description %q", d)
	}
}

// A keyring under stella's name that is not stella's (another owner, other
// permissions) is never used: keys put there would be its owner's to read.
func TestForeignRingRefused(t *testing.T) {
	inSession(t, func(t *testing.T) {
		id, err := unix.AddKey("keyring", ringName(os.Geteuid()), nil, unix.KEY_SPEC_SESSION_KEYRING)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.KeyctlSetperm(id, 0x3f3f3f3f); err != nil {
			t.Fatal(err)
		}
		c := New(time.Minute, nil)
		if _, err := c.Put("a", []byte("k")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Put into a foreign ring: %v, want unavailable", err)
		}
		if kids, _ := children(id); len(kids) != 0 {
			t.Fatalf("a key went into the foreign ring")
		}
	})
}

func TestReportAndForget(t *testing.T) {
	inSession(t, func(t *testing.T) {
		c := New(15*time.Minute, nil)
		rep, err := c.Report(false)
		if err != nil || rep.Cached != 0 || rep.Unavailable != "" || rep.Where == "" {
			t.Fatalf("empty: %+v, %v", rep, err)
		}
		for _, n := range []string{"a", "b"} {
			if _, err := c.Put(n, []byte(n)); err != nil {
				t.Fatal(err)
			}
		}
		if rep, _ = New(time.Minute, nil).Report(false); rep.Cached != 2 {
			t.Fatalf("cached = %d, want 2", rep.Cached)
		}
		if rep, _ = c.Report(true); rep.Forgotten != 2 {
			t.Fatalf("forgotten = %d, want 2", rep.Forgotten)
		}
		if _, _, err := New(time.Minute, nil).Get("a"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Get after forget: %v", err)
		}
		// The rest of a run that forgot keeps nothing more.
		if _, err := c.Put("c", []byte("c")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Put after forget: %v, want unavailable", err)
		}
	})
}

// A keyring lives as long as its newest key. When it expires between the
// process finding it and keeping a key (a derivation runs in between),
// Put makes a new keyring instead of keeping nothing.
func TestPutAfterTheKeyringExpired(t *testing.T) {
	inSession(t, func(t *testing.T) {
		c := New(time.Minute, nil)
		if _, err := c.Put("a", bytes.Repeat([]byte{1}, 32)); err != nil {
			t.Fatal(err)
		}
		old := c.ring
		if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, old, 0, 0, 0); err != nil { // gone, as an expired one is
			t.Fatal(err)
		}
		if _, err := c.Put("b", bytes.Repeat([]byte{2}, 32)); err != nil {
			t.Fatalf("Put after the keyring went: %v", err)
		}
		if c.ring == old {
			t.Fatal("Put kept using the revoked keyring")
		}
		if got, _, err := New(time.Minute, nil).Get("b"); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{2}, 32)) {
			t.Fatalf("another process does not find the key: %x, %v", got, err)
		}
	})
}
