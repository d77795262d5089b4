package filestore

import (
	"errors"
	"fmt"
	"os"

	"github.com/stellaops/stella/domain"
)

// ensureDir creates the token cache directory if need be and applies
// SPEC §5's rule before anything is written in it.
func (s *Store) ensureDir() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return storageErr(err, "cannot create the token cache directory "+s.cfg.Dir)
	}
	return s.checkDir()
}

// checkDir refuses a cache directory another user owns or can write (they
// could plant or swap the files stella reads and writes), and tightens one
// others can merely read, with a warning. A missing one is fine.
func (s *Store) checkDir() error {
	st, err := os.Stat(s.cfg.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return storageErr(err, "cannot read the token cache directory "+s.cfg.Dir)
	}
	tighten, err := domain.CheckCacheDir(s.cfg.Dir, domain.DirFacts{IsDir: st.IsDir(), Perm: st.Mode().Perm(), Owner: ownerOf(st), EUID: euid()})
	if err != nil || !tighten {
		return err
	}
	if err := os.Chmod(s.cfg.Dir, 0o700); err != nil {
		return storageErr(err, "the token cache directory "+s.cfg.Dir+" is readable by other users and cannot be tightened")
	}
	s.warn(fmt.Sprintf("the token cache directory %s was readable by other users (mode %#o); tightened to 0700", s.cfg.Dir, st.Mode().Perm()))
	return nil
}

func (s *Store) warn(msg string) {
	if s.cfg.Log != nil {
		s.cfg.Log.Warn(msg)
	}
}

// CheckDir reports whether dir (the token cache) is the user's alone; a
// missing directory is fine.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return storageErr(err, "cannot read the token cache directory "+dir)
	}
	tighten, err := domain.CheckCacheDir(dir, domain.DirFacts{IsDir: st.IsDir(), Perm: st.Mode().Perm(), Owner: ownerOf(st), EUID: euid()})
	if err != nil {
		return err
	}
	if tighten {
		// Use tightens it with a warning; the doctor reports it.
		return domain.E(domain.KindStorage, fmt.Sprintf("the token cache directory %s is open to other users (mode %#o)", dir, st.Mode().Perm()),
			"Run: chmod 700 "+domain.ShellQuote(dir))
	}
	return nil
}
