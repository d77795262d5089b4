//go:build unix

package filestore

import (
	"fmt"
	"os"
	"syscall"

	"github.com/stellaops/stella/domain"
)

// ownedByMe refuses a cache directory another user owns: they could swap
// the files stella reads.
func ownedByMe(dir string, st os.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) == os.Getuid() {
		return nil
	}
	return domain.E(domain.KindStorage, fmt.Sprintf("the token cache directory %s belongs to another user (uid %d)", dir, sys.Uid),
		"Use a directory of your own: set STELLA_TOKEN_CACHE_DIR.")
}
