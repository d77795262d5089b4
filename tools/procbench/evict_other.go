//go:build !linux

package main

// evict does nothing where there is no posix_fadvise: the programs are
// measured in whatever state the page cache holds them.
func evict(string) error { return nil }
