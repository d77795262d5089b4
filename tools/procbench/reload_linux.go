package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// reload writes back and drops path's pages from the page cache, then
// reads the file back with readahead off, so that every program starts
// from one state, run after run: the whole file cached in 4 KiB pages, as
// every kernel held files before large folios. Left to how it entered
// the cache, one binary measured anywhere from 9.7 to 16.1 MiB of peak
// RSS and 1.7x to 2.1x the baseline: a file read or written sequentially
// sits in large folios (up to 2 MiB, each mapped whole), the linker's
// output in 4 KiB pages, and one faulted in by exec in a mix that differs
// between files and between runs.
func reload(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
		return err
	}
	_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, make([]byte, 64<<10))
	return err
}
