package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

var key = domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}

// TestHelperHoldLock is not a test: run as a child process, it takes the
// lock, says so, and waits to be killed.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("STELLA_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := New(dir).Lock(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "held"), nil, 0o600)
	time.Sleep(time.Minute)
}

// Another process holds the lock: waiting is bounded and says why; once that
// process is killed (a crash, no unlock), the lock is free at once.
func TestCrashedHolderNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "STELLA_LOCK_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "held")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper never took the lock")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := New(dir).Lock(ctx, key)
	if domain.KindOf(err) != domain.KindStorage || !strings.Contains(err.Error(), "another stella process has held the session lock") {
		t.Fatalf("while held: %v, want a storage error naming the other process", err)
	}

	_ = cmd.Process.Kill() // no unlock: the OS releases the lock with the process
	_ = cmd.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	unlock, err := New(dir).Lock(ctx, key)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	unlock()
}

// Goroutines of one process queue on the session, and a cancelled wait is
// an interruption, not a storage failure.
func TestInProcessQueueAndCancel(t *testing.T) {
	l := New(t.TempDir())
	unlock, err := l.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Lock(ctx, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	done := make(chan struct{})
	go func() {
		u, err := l.Lock(context.Background(), key)
		if err == nil {
			u()
		}
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("a second holder got in while the first held the lock")
	default:
	}
	unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the second holder never got the lock")
	}
}
