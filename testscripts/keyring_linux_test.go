//go:build linux

package testscripts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// Every scenario runs its stella processes in a session keyring of its
// own, so the kernel key cache (adapters/keycache) of one scenario — or of
// the developer's own shell — never answers another's, and
// `auth doctor --forget-keys` forgets only the scenario's keys. The
// keyring is made by the test process, linked into its user keyring (which
// keeps it alive between processes) and made searchable by its owner, so
// each stella the scenario runs can join it by name
// (keyctl_join_session_keyring).

const scenarioRingPerm = 0x3f3f0000 // possessor and owner: everything

var ringSeq struct {
	sync.Mutex
	n int
}

// newScenarioKeyring makes the session keyring of one scenario.
func newScenarioKeyring() (string, int, error) {
	ringSeq.Lock()
	ringSeq.n++
	name := fmt.Sprintf("stella-test-%d-%d", os.Getpid(), ringSeq.n)
	ringSeq.Unlock()
	id, err := unix.AddKey("keyring", name, nil, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return "", 0, err
	}
	if err := unix.KeyctlSetperm(id, scenarioRingPerm); err != nil {
		dropKeyring(id)
		return "", 0, err
	}
	return name, id, nil
}

func dropKeyring(id int) { _, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0) }

// kernelKeyrings reports (once) whether this kernel lets the tests make
// keyrings at all; scenarios that need the key cache skip without.
var kernelKeyrings = sync.OnceValue(func() bool {
	_, id, err := newScenarioKeyring()
	if err != nil {
		return false
	}
	dropKeyring(id)
	return true
})

// joinScenarioKeyring makes this thread a member of the scenario's session
// keyring (in a program the scenario started: STELLA_TEST_SESSION_KEYRING).
func joinScenarioKeyring() bool { return joinKeyring(os.Getenv("STELLA_TEST_SESSION_KEYRING")) }

// joinKeyring makes this thread a member of the session keyring name, and
// reports whether it is. Keyrings are credentials, which Linux keeps per
// thread: the thread stays locked, and only what it starts inherits the
// keyring. A failure (the seccomp filter of `nokeyring`) leaves the thread
// where it was, which is what that scenario wants.
func joinKeyring(name string) bool {
	if name == "" {
		return false
	}
	runtime.LockOSThread()
	_, err := unix.KeyctlJoinSessionKeyring(name)
	return err == nil
}

// enterScenarioKeyring makes sure the whole of this process — stella runs
// on many threads — is in the scenario's session keyring. Started by the
// script it already is (setupKeyring); started from anywhere else, the
// joining thread executes the program again in place (execve keeps the
// pid, and the new image's threads all start from that thread's
// credentials), and the second time round it is.
func enterScenarioKeyring() error {
	if id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false); err == nil &&
		strconv.Itoa(id) == os.Getenv("STELLA_TEST_SESSION_KEYRING_ID") {
		return nil
	}
	if !joinScenarioKeyring() {
		runtime.UnlockOSThread()
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, os.Environ())
}

// inSession runs a program in the scenario's session keyring:
// `exec insession keyctl print $KEY`.
func inSession() int {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: insession PROGRAM [ARGS...]")
		return 2
	}
	joinScenarioKeyring()
	return execArgs(os.Args[1:])
}

// noKeyring runs a program under a seccomp filter that answers add_key,
// keyctl and request_key with an error, as container runtimes' default
// profiles do: `exec nokeyring EPERM stella auth token`. It is the real
// kernel refusing, not a switch inside stella.
func noKeyring() int {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: nokeyring EPERM|ENOSYS PROGRAM [ARGS...]")
		return 2
	}
	errno := map[string]syscall.Errno{"EPERM": unix.EPERM, "ENOSYS": unix.ENOSYS}[os.Args[1]]
	if errno == 0 {
		fmt.Fprintln(os.Stderr, "nokeyring: the errno is EPERM or ENOSYS")
		return 2
	}
	// A filter applies to the thread that installs it and to what it
	// executes: stay on this thread until the exec.
	runtime.LockOSThread()
	const (
		ldW    = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret    = unix.BPF_RET | unix.BPF_K
		allow  = unix.SECCOMP_RET_ALLOW
		refuse = unix.SECCOMP_RET_ERRNO
	)
	prog := []unix.SockFilter{
		{Code: ldW, K: 0}, // seccomp_data.nr
		{Code: jeq, Jt: 3, K: unix.SYS_ADD_KEY},
		{Code: jeq, Jt: 2, K: unix.SYS_KEYCTL},
		{Code: jeq, Jt: 1, K: unix.SYS_REQUEST_KEY},
		{Code: ret, K: allow},
		{Code: ret, K: refuse | uint32(errno)},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "nokeyring: no_new_privs:", err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "nokeyring: cannot install the seccomp filter:", err)
		return 1
	}
	return execArgs(os.Args[2:])
}

// execArgs replaces the process with a program from PATH.
func execArgs(args []string) int {
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintln(os.Stderr, "exec:", err)
	return 1
}

// children lists the keys linked directly in a keyring.
func keyChildren(ring int) []int {
	buf := make([]byte, 4096)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ring, buf, 0)
	if err != nil || n > len(buf) {
		return nil
	}
	var ids []int
	for i := 0; i+4 <= n; i += 4 {
		ids = append(ids, int(int32(binary.NativeEndian.Uint32(buf[i:]))))
	}
	return ids
}

// stellaKeys lists the live stella entries in the scenario's keyring.
func stellaKeys(ts *testscript.TestScript) []int {
	ring, err := strconv.Atoi(ts.Getenv("STELLA_TEST_SESSION_KEYRING_ID"))
	if err != nil {
		ts.Fatalf("no scenario keyring (the kernel refused one?)")
	}
	var keys []int
	for _, id := range keyChildren(ring) {
		d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil || !strings.HasPrefix(d, "keyring;") || !strings.HasSuffix(d, ";stella-keys."+strconv.Itoa(os.Geteuid())) {
			continue
		}
		for _, k := range keyChildren(id) {
			// An expired key stays linked until the kernel collects it,
			// but it can no longer be described.
			if d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, k); err == nil && strings.HasPrefix(d, "user;") {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// keycount N checks how many keys stella keeps in the scenario's session
// keyring.
func cmdKeyCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: keycount N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := len(stellaKeys(ts)); (got == want) == neg {
		ts.Fatalf("stella keeps %d key(s) in the session keyring, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// waitfor-keycount N waits (up to 10 s) until stella keeps N keys in the
// scenario's session keyring: the kernel drops a key when its timeout
// passes, in real time, whatever the scenario's clock says.
func cmdWaitForKeyCount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor-keycount N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(stellaKeys(ts)) == want {
			return
		}
	}
	ts.Fatalf("waitfor-keycount: stella still keeps %d key(s) in the session keyring, want %d", len(stellaKeys(ts)), want)
}

// keyid VAR sets VAR to the id of the (one) key stella keeps in the
// scenario's session keyring.
func cmdKeyID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: keyid VAR")
	}
	keys := stellaKeys(ts)
	if len(keys) != 1 {
		ts.Fatalf("keyid: %d stella keys in the session keyring, want 1", len(keys))
	}
	ts.Setenv(args[0], strconv.Itoa(keys[0]))
}

// setupKeyring gives a scenario its session keyring.
func setupKeyring(env *testscript.Env) {
	// Asked here, before this thread joins the scenario's keyring: a thread
	// in it no longer possesses the user keyring the probe writes to.
	if !kernelKeyrings() {
		return
	}
	name, id, err := newScenarioKeyring()
	if err != nil {
		return // [keyring] is false: the scenarios that need one skip
	}
	env.Setenv("STELLA_TEST_SESSION_KEYRING", name)
	env.Setenv("STELLA_TEST_SESSION_KEYRING_ID", strconv.Itoa(id))
	env.Defer(func() { dropKeyring(id) })
	// Setup runs on the script's goroutine, which runs its commands and
	// starts its programs. On a thread of its own in the scenario's
	// keyring, every program starts in it (a child has the credentials of
	// the thread that forked it), so stella need not start again to join
	// (enterScenarioKeyring). The thread ends with the script.
	joinKeyring(name)
}

// corrupt-cached-key overwrites the value of the (one) key stella keeps in
// the scenario's session keyring with a random key of the same shape, as a
// stale or planted entry would look, keeping its timeout.
func cmdCorruptCachedKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: corrupt-cached-key")
	}
	keys := stellaKeys(ts)
	if len(keys) != 1 {
		ts.Fatalf("corrupt-cached-key: %d stella keys in the session keyring, want 1", len(keys))
	}
	buf := make([]byte, 512)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, keys[0], buf, 0)
	ts.Check(err)
	p := buf[:n]
	if len(p) < 9+32 {
		ts.Fatalf("corrupt-cached-key: a %d-byte entry", len(p))
	}
	_, err = rand.Read(p[9:])
	ts.Check(err)
	_, err = unix.KeyctlBuffer(unix.KEYCTL_UPDATE, keys[0], p, 0)
	ts.Check(err)
	// An update clears the timeout; give it one again.
	_, err = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, keys[0], 600, 0, 0)
	ts.Check(err)
}

// recordCachedKeys notes, after each stella call, the keys stella keeps in
// the scenario's session keyring (this process is in that session), so the
// leak check can make sure no derived or data key ever reached stella's
// output, its logs or the token cache — though the keys expire or are
// dropped before the scenario ends.
func recordCachedKeys() {
	path := os.Getenv("STELLA_TEST_KEYS_RECORD")
	if path == "" || os.Getenv("STELLA_TEST_SESSION_KEYRING") == "" {
		return
	}
	sess, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return
	}
	var lines []string
	for _, ring := range keyChildren(sess) {
		d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, ring)
		if err != nil || !strings.HasSuffix(d, ";stella-keys."+strconv.Itoa(os.Geteuid())) {
			continue
		}
		for _, k := range keyChildren(ring) {
			buf := make([]byte, 512)
			n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, k, buf, 0)
			if err != nil || n < 9+32 || n > len(buf) {
				continue
			}
			lines = append(lines, hex.EncodeToString(buf[9:9+32])) // the key itself, after version and expiry
		}
	}
	if len(lines) == 0 {
		return
	}
	if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		_, _ = f.WriteString(strings.Join(lines, "\n") + "\n")
		_ = f.Close()
	}
}

// cachedKeySecrets are the keys recordCachedKeys saw, in the forms stella
// could print them.
func cachedKeySecrets(workDir string) []string {
	b, err := os.ReadFile(filepath.Join(workDir, ".stella-keys"))
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Fields(string(b)) {
		k, err := hex.DecodeString(line)
		if err != nil {
			continue
		}
		out = append(out, line, string(k), base64.RawStdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(k))
	}
	return out
}
