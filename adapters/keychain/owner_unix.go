//go:build unix

package keychain

import (
	"os"
	"syscall"
)

const noFollow = syscall.O_NOFOLLOW

// privateDir reports whether dir is this user's and writable by no one
// else, so the probe's verdict may be kept there (SPEC §5).
func privateDir(dir string) bool {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm()&0o022 != 0 {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Geteuid()
}
