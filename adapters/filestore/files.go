package filestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stellaops/stella/domain"
)

// readBounded reads a session file: never through a symbolic link, only a
// regular file of this user's, at most 1 MiB. A file others can read is
// tightened to 0600, with a warning (warn may be nil).
func readBounded(p string, warn func(string)) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow|nonBlock, 0)
	if err != nil {
		if lst, lerr := os.Lstat(p); lerr == nil && lst.Mode()&os.ModeSymlink != 0 {
			return nil, domain.E(domain.KindStorage, "the session file "+p+" is a symbolic link; stella does not follow links in the token cache",
				"Remove the link (someone else may have planted it), then sign in again.")
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, domain.E(domain.KindStorage, "the session file "+p+" is not a regular file", "Remove it, then sign in again.")
	case ownerOf(st) >= 0 && ownerOf(st) != euid():
		return nil, domain.E(domain.KindStorage, fmt.Sprintf("the session file %s belongs to another user (uid %d)", p, ownerOf(st)),
			"Remove it (someone else may have planted it), then sign in again.")
	case st.Mode().Perm()&0o077 != 0:
		if err := f.Chmod(0o600); err != nil {
			return nil, err
		}
		if warn != nil {
			warn(fmt.Sprintf("the session file %s was readable by other users (mode %#o); tightened to 0600", p, st.Mode().Perm()))
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, errors.New("file larger than 1 MiB")
	}
	return b, nil
}

// writeAtomic writes via a temporary file, fsync, rename and a directory
// fsync, so a crash leaves either the old file or the new one, never half.
func writeAtomic(p string, data []byte) (err error) {
	dir := filepath.Dir(p)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return storageErr(err, "cannot write in the token cache directory "+dir)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return storageErr(err, "cannot protect the session file")
	}
	if _, err = tmp.Write(data); err != nil {
		return storageErr(err, "cannot write the session file")
	}
	if err = tmp.Sync(); err != nil {
		return storageErr(err, "cannot flush the session file")
	}
	if err = tmp.Close(); err != nil {
		return storageErr(err, "cannot write the session file")
	}
	if err = os.Rename(tmp.Name(), p); err != nil {
		return storageErr(err, "cannot replace the session file")
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
