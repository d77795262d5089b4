package testscripts

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/rogpeppe/go-internal/testscript"
)

// sleepysecrets PATH starts a private D-Bus session bus listening at PATH
// on which a Secret Service owns org.freedesktop.secrets, takes every
// method call and never answers it: the keychain wait past the bus (where
// hungbus hangs) that only stella's timeout, or a signal, ends. Each call
// it takes is noted in PATH.calls, for waitfor. It needs dbus-daemon:
// scenarios guard it with [!exec:dbus-daemon] skip.
func cmdSleepySecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleepysecrets PATH")
	}
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		ts.Fatalf("sleepysecrets: no dbus-daemon on PATH (guard with [!exec:dbus-daemon] skip)")
	}
	sock := ts.MkAbs(args[0])
	conf := sock + ".conf"
	ts.Check(os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600))
	bus := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile")
	bus.Stderr = os.Stderr
	ts.Check(bus.Start())
	ts.Defer(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("sleepysecrets: the bus never listened at %s", sock)
		}
	}
	s := &sleepyService{calls: sock + ".calls", done: make(chan struct{})}
	conn, err := dbus.Connect("unix:path="+sock, dbus.WithHandler(s))
	ts.Check(err)
	ts.Defer(func() { close(s.done); _ = conn.Close() })
	reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue)
	ts.Check(err)
	if reply != dbus.RequestNameReplyPrimaryOwner {
		ts.Fatalf("sleepysecrets: did not get org.freedesktop.secrets (%v)", reply)
	}
}

// sleepyService is every object, interface and method of the service: a
// call is taken, noted, and left unanswered until the scenario ends.
type sleepyService struct {
	calls string
	done  chan struct{}
	mu    sync.Mutex
	n     int
}

func (s *sleepyService) LookupObject(dbus.ObjectPath) (dbus.ServerObject, bool) { return s, true }
func (s *sleepyService) LookupInterface(string) (dbus.Interface, bool)          { return s, true }
func (s *sleepyService) LookupMethod(string) (dbus.Method, bool)                { return s, true }

// DecodeArguments takes any arguments: the call is never answered anyway.
func (s *sleepyService) DecodeArguments(*dbus.Conn, string, *dbus.Message, []any) ([]any, error) {
	return nil, nil
}

func (s *sleepyService) Call(...any) ([]any, error) {
	s.mu.Lock()
	s.n++
	_ = os.WriteFile(s.calls, []byte(fmt.Sprintln(s.n)), 0o600)
	s.mu.Unlock()
	<-s.done
	return nil, dbus.MakeFailedError(fmt.Errorf("sleepysecrets: the scenario ended"))
}

func (s *sleepyService) NumArguments() int     { return 0 }
func (s *sleepyService) NumReturns() int       { return 0 }
func (s *sleepyService) ArgumentValue(int) any { return nil }
func (s *sleepyService) ReturnValue(int) any   { return nil }
