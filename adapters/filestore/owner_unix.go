//go:build unix

package filestore

import (
	"os"
	"syscall"
)

// noFollow makes an open refuse a symbolic link in the last component: a
// link planted in the cache directory must not send stella's reads or
// writes elsewhere.
const noFollow = syscall.O_NOFOLLOW

// nonBlock keeps an open from blocking on a FIFO planted in place of a file.
const nonBlock = syscall.O_NONBLOCK

// ownerOf is the file's owner uid.
func ownerOf(st os.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}

// euid is who stella runs as.
func euid() int { return os.Geteuid() }
