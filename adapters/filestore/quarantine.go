package filestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

var _ ports.Quarantiner = (*Store)(nil)

// Quarantine moves a session's file aside; a missing file is ("", nil).
func (s *Store) Quarantine(_ context.Context, key domain.SessionKey) (string, error) {
	if _, err := os.Stat(s.path(key)); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return Quarantine(s.path(key), time.Now())
}

// Quarantine moves a bad file aside as <path>.corrupt-<time>, never deleting
// it, and returns the new name.
func Quarantine(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i < 100; i++ {
		to := base
		if i > 1 {
			to = fmt.Sprintf("%s-%d", base, i)
		}
		// A hard link never replaces an existing file, so an earlier
		// quarantined file with the same second is never overwritten.
		err := os.Link(path, to)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			// No hard links here (some file systems): rename, having checked.
			if _, serr := os.Lstat(to); serr == nil {
				continue
			}
			if err := os.Rename(path, to); err != nil {
				return "", storageErr(err, "cannot move "+path+" aside")
			}
			return to, nil
		}
		if err := os.Remove(path); err != nil {
			return "", storageErr(err, "cannot move "+path+" aside")
		}
		return to, nil
	}
	return "", storageErr(nil, "cannot move "+path+" aside: too many quarantined copies")
}
