package cli

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestInterruptibleWatchesOnlyOnceWaitedOn(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	c := newInterruptible(parent)
	defer c.close()
	if c.Err() != nil || c.Value(key{}) != "v" {
		t.Fatalf("Err, Value before any wait = %v, %v; want the parent's", c.Err(), c.Value(key{}))
	}
	if _, ok := c.Deadline(); ok {
		t.Fatal("Deadline: want the parent's (none)")
	}
	if c.armed.Load() {
		t.Fatal("the watcher started before anything waited on the context")
	}
	derived, cancel := context.WithCancel(c) // derives, so it waits on Done
	defer cancel()
	if !c.armed.Load() {
		t.Fatal("a derived context did not start the watcher")
	}
	if derived.Value(key{}) != "v" {
		t.Fatal("a derived context lost the parent's values")
	}
}

func TestInterruptibleSignalCancelsWaiters(t *testing.T) {
	c := newInterruptible(context.Background())
	defer c.close()
	derived, cancel := context.WithCancel(c)
	defer cancel()
	done := c.Done() // the watcher runs from here on, so the signal is caught
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	<-derived.Done()
	if !errors.Is(c.Err(), context.Canceled) || !errors.Is(derived.Err(), context.Canceled) {
		t.Fatalf("Err = %v, derived %v; want context.Canceled", c.Err(), derived.Err())
	}
}

func TestInterruptibleClosedBeforeWaitNeverWatches(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newInterruptible(parent)
	c.close()
	if c.Done() != parent.Done() || c.armed.Load() {
		t.Fatal("a closed context started its watcher")
	}
	cancel()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v; want the parent's cancellation", c.Err())
	}
}

func TestInterruptibleParentCancellation(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newInterruptible(parent)
	defer c.close()
	done := c.Done()
	cancel()
	<-done
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v; want the parent's cancellation", c.Err())
	}
}
