package testscripts

// Script commands about the OS keychain and its D-Bus.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// keychainUsable reports whether a Secret Service answers on this
// process's session bus. With STELLA_TEST_KEYCHAIN=require (CI) a missing
// one is an error, so the keychain scenarios cannot silently skip.
func keychainUsable() (bool, error) {
	keychainOnce.Do(func() {
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			keychainWhy = "DBUS_SESSION_BUS_ADDRESS is not set"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "secret-tool", "lookup", "service", "stella-test-probe", "username", "none")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err == nil || (errors.As(err, &ee) && ee.ExitCode() == 1 && errb.Len() == 0) {
			keychainOK = true
			return
		}
		keychainWhy = fmt.Sprintf("secret-tool: %v %s", err, strings.TrimSpace(errb.String()))
	})
	if !keychainOK && os.Getenv("STELLA_TEST_KEYCHAIN") == "require" {
		return false, fmt.Errorf("STELLA_TEST_KEYCHAIN=require but no Secret Service answers: %s", keychainWhy)
	}
	return keychainOK, nil
}

var (
	keychainOnce sync.Once
	keychainOK   bool
	keychainWhy  string
)

// keychain-item checks that the OS keychain holds the data key of the
// script's one session (service "stella", account the session file's
// name). When the file is gone (after logout) it checks the account seen
// last. It never prints the key.
func cmdKeychainItem(ts *testscript.TestScript, neg bool, args []string) {
	if matches, _ := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session")); len(matches) == 1 {
		ts.Setenv("KEYCHAIN_ACCOUNT", strings.TrimSuffix(filepath.Base(matches[0]), ".session"))
	}
	account := ts.Getenv("KEYCHAIN_ACCOUNT")
	if account == "" {
		ts.Fatalf("keychain-item: no session seen yet")
	}
	cmd := exec.Command("secret-tool", "lookup", "service", "stella", "username", account)
	cmd.Env = []string{"DBUS_SESSION_BUS_ADDRESS=" + ts.Getenv("DBUS_SESSION_BUS_ADDRESS")}
	out, err := cmd.Output()
	found := err == nil && len(out) > 0
	if found == neg {
		ts.Fatalf("keychain item for %s: found=%v, want %v", account, found, !neg)
	}
	if found && len(bytes.TrimSpace(out)) != 43 {
		ts.Fatalf("keychain item for %s is %d bytes, want a 43-character data key", account, len(bytes.TrimSpace(out)))
	}
}

// busmon start|stop records the calls made to the Secret Service in
// between (dbus-monitor) into busmon.log, one line per call, so a script
// can count them: `busmon start`, a command, `busmon stop`, then
// `grep -count=1 'member=GetSecret$' busmon.log`. Each end is marked by a
// Ping the monitor must have seen, so nothing is cut off either side. Only
// the connections that named this scenario's keychain item are kept: the
// bus is every scenario's (ownCalls).
func cmdBusMon(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "start" && args[0] != "stop") {
		ts.Fatalf("usage: busmon start|stop")
	}
	bus := ts.Getenv("DBUS_SESSION_BUS_ADDRESS")
	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + bus, "PATH=" + os.Getenv("PATH")}
	raw := ts.MkAbs(".busmon.raw")
	pings := func() int {
		b, _ := os.ReadFile(raw)
		return strings.Count(string(b), "member=Ping")
	}
	ping := func() {
		cmd := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
			"/org/freedesktop/secrets", "org.freedesktop.DBus.Peer.Ping")
		cmd.Env = env
		ts.Check(cmd.Run())
	}
	if args[0] == "start" {
		f, err := os.Create(raw)
		ts.Check(err)
		cmd := exec.Command("dbus-monitor", "--session", "type='method_call',destination='org.freedesktop.secrets'")
		cmd.Env, cmd.Stdout = env, f
		ts.Check(cmd.Start())
		ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = f.Close() })
		busMonitors.Store(raw, cmd)
		// The monitor takes a moment to attach: ping until it reports one.
		for deadline := time.Now().Add(10 * time.Second); pings() == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				ts.Fatalf("busmon: dbus-monitor saw nothing")
			}
			ping()
		}
		b, _ := os.ReadFile(raw)
		ts.Setenv("BUSMON_FROM", strconv.Itoa(len(b)))
		return
	}
	v, ok := busMonitors.LoadAndDelete(raw)
	if !ok {
		ts.Fatalf("busmon stop without start")
	}
	// Calls arrive in order: once the monitor shows this Ping, it has
	// shown every call made before it.
	before := pings()
	ping()
	for deadline := time.Now().Add(10 * time.Second); pings() <= before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			ts.Fatalf("busmon: dbus-monitor did not see the closing marker")
		}
	}
	cmd := v.(*exec.Cmd)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	b, err := os.ReadFile(raw)
	ts.Check(err)
	from, _ := strconv.Atoi(ts.Getenv("BUSMON_FROM"))
	calls := ownCalls(string(b[from:]), scenarioAccounts(ts))
	if calls == nil {
		ts.Fatalf("busmon: no call named this scenario's keychain item (no session in %s/tokens?)", ts.Getenv("STELLA_CONFIG_DIR"))
	}
	ts.Check(os.WriteFile(ts.MkAbs("busmon.log"), []byte(strings.Join(calls, "\n")+"\n"), 0o600))
}

// scenarioAccounts are the keychain accounts of this scenario's sessions:
// the names of the session files in its token directory, and the one
// keychain-item saw last.
func scenarioAccounts(ts *testscript.TestScript) []string {
	matches, _ := filepath.Glob(filepath.Join(ts.Getenv("STELLA_CONFIG_DIR"), "tokens", "*.session"))
	var accounts []string
	for _, m := range matches {
		accounts = append(accounts, strings.TrimSuffix(filepath.Base(m), ".session"))
	}
	if a := ts.Getenv("KEYCHAIN_ACCOUNT"); a != "" {
		accounts = append(accounts, a)
	}
	return accounts
}

// ownCalls picks, from dbus-monitor's output, the call lines (Pings left
// out) of the connections that named one of accounts in a call's
// arguments (SearchItems and CreateItem carry it). The session bus and its
// Secret Service serve every scenario running at once, and another
// scenario's stella calling in between is no call of this one's (CI once
// counted two SearchItems this way). nil when no connection named one.
// The price: a second connection of this scenario's stella that never
// named its account would go uncounted. Keeping every connection that
// named no other account instead would count another scenario's write
// caught half-way (go-keyring unlocks before CreateItem names the
// account), the flake again; stella reads on one connection.
func ownCalls(raw string, accounts []string) []string {
	type call struct{ sender, line string }
	var all []call
	ours := map[string]bool{}
	for _, block := range strings.Split(raw, "\nmethod call ") {
		head, args, _ := strings.Cut(strings.TrimPrefix(block, "method call "), "\n")
		if !strings.HasPrefix(head, "time=") || strings.Contains(head, "member=Ping") {
			continue
		}
		sender := ""
		for _, f := range strings.Fields(head) {
			if v, ok := strings.CutPrefix(f, "sender="); ok {
				sender = v
			}
		}
		all = append(all, call{sender, "method call " + head})
		for _, a := range accounts {
			if strings.Contains(args, `string "`+a+`"`) {
				ours[sender] = true
			}
		}
	}
	var lines []string
	for _, c := range all {
		if ours[c.sender] {
			lines = append(lines, c.line)
		}
	}
	return lines
}

var busMonitors sync.Map

// hungbus PATH listens on a Unix socket that accepts connections and never
// answers: a D-Bus daemon that hangs. hungbus-calls PATH N checks how many
// connections it has taken.
func cmdHungBus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hungbus PATH")
	}
	l, err := net.Listen("unix", ts.MkAbs(args[0]))
	ts.Check(err)
	hb := &hungBus{}
	hungBuses.Store(ts.MkAbs(args[0]), hb)
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hb.mu.Lock()
			hb.calls++
			conns = append(conns, c)
			hb.mu.Unlock()
		}
	}()
	ts.Defer(func() {
		_ = l.Close()
		hb.mu.Lock()
		defer hb.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
}

type hungBus struct {
	mu    sync.Mutex
	calls int
}

var hungBuses sync.Map

func cmdHungBusCalls(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: hungbus-calls PATH N")
	}
	v, ok := hungBuses.Load(ts.MkAbs(args[0]))
	if !ok {
		ts.Fatalf("no hungbus at %s", args[0])
	}
	hb := v.(*hungBus)
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	hb.mu.Lock()
	got := hb.calls
	hb.mu.Unlock()
	if (got == want) == neg {
		ts.Fatalf("hungbus took %d connections, want %d", got, want)
	}
}
