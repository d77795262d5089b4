//go:build !linux

package main

// reload does nothing where there is no posix_fadvise: the programs are
// measured in whatever state the page cache holds them.
func reload(string) error { return nil }
