package domain

import (
	"fmt"
	"io/fs"
)

// DirFacts is what a stat of the token cache directory says, for
// CheckCacheDir. Owner is -1 where the platform has no POSIX owners.
type DirFacts struct {
	IsDir bool
	Perm  fs.FileMode
	Owner int
	EUID  int
}

// CheckCacheDir is SPEC §5's rule for the token cache directory, applied
// before anything is created in it: it must belong to the user running
// stella (root included: root never writes into another user's directory)
// and must not be writable by others, else stella refuses it (exit 18)
// with the exact fix. One merely readable by others is to be tightened to
// 0700 (tighten), with a warning.
func CheckCacheDir(dir string, f DirFacts) (tighten bool, err error) {
	q := ShellQuote(dir)
	switch {
	case !f.IsDir:
		return false, E(KindStorage, "the token cache path "+dir+" is not a directory",
			"Move it away, or set STELLA_TOKEN_CACHE_DIR to a directory of your own.")
	case f.Owner >= 0 && f.Owner != f.EUID:
		who := ""
		if f.EUID == 0 {
			who = "; running as root, stella never writes into another user's directory"
		}
		return false, E(KindStorage, fmt.Sprintf("the token cache directory %s belongs to another user (uid %d)%s", dir, f.Owner, who),
			"Use a directory of your own: set STELLA_TOKEN_CACHE_DIR (or --token-cache-dir) to one, such as ~/.stellaops/tokens.")
	case f.Perm&0o022 != 0:
		return false, E(KindStorage, fmt.Sprintf("the token cache directory %s is writable by other users (mode %#o)", dir, f.Perm),
			"Run: chmod 700 "+q+" (and check nothing in it was planted), or set STELLA_TOKEN_CACHE_DIR to a private directory.")
	}
	return f.Perm&0o077 != 0, nil
}
