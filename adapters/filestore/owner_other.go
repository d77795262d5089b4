//go:build !unix

package filestore

import "os"

// ownedByMe: ownership is not checked where POSIX owners do not exist.
func ownedByMe(string, os.FileInfo) error { return nil }
