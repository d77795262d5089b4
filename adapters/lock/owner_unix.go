//go:build unix

package lock

import (
	"os"
	"syscall"
)

// noFollow: a lock file planted as a symbolic link is refused, not
// followed (which would create the link's target, owned by the victim).
const noFollow = syscall.O_NOFOLLOW

func ownerOf(st os.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}

func euid() int { return os.Geteuid() }
