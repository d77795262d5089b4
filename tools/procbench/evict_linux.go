package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// evict writes back and drops path's pages from the page cache, so that
// the next exec reads it as after a reboot. Pages another process has
// mapped stay; the warm-up rounds then settle every program alike.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
