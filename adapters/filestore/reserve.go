package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// reserveMargin is added to the current file's size for the reservation: a
// renewed session differs from the old one by a few tokens' worth of bytes.
const reserveMargin = 8 << 10

var _ ports.SpaceReserver = (*Store)(nil)

// Reserve claims the space the next save of key's session needs — a
// temporary file as large as the current one plus a margin, written and
// synced, so the file system has really allocated it — before a refresh
// spends the refresh token. Save gives the space back just before it
// writes (the new file takes it over); release drops it when no save
// follows. On a full disk Reserve fails and nothing is sent.
func (s *Store) Reserve(_ context.Context, key domain.SessionKey) (func(), error) {
	size := reserveMargin
	if st, err := os.Stat(s.path(key)); err == nil {
		size += int(st.Size())
	}
	if err := s.ensureDir(); err != nil {
		return func() {}, err
	}
	// Reserve runs under the session's lock, so another reservation for
	// this session is a crashed process's leftover.
	if old, _ := filepath.Glob(filepath.Join(s.cfg.Dir, "."+key.ID()+".reserve-*")); len(old) > 0 {
		for _, o := range old {
			_ = os.Remove(o)
		}
	}
	f, err := os.CreateTemp(s.cfg.Dir, "."+key.ID()+".reserve-*")
	if err != nil {
		return func() {}, reserveErr(err, s.cfg.Dir)
	}
	name := f.Name()
	fail := func(err error) (func(), error) {
		_ = f.Close()
		_ = os.Remove(name)
		return func() {}, reserveErr(err, s.cfg.Dir)
	}
	// Written, not truncated or fallocated: a sparse file claims nothing,
	// and fallocate is not offered everywhere (some FUSE and network file
	// systems).
	zeros := make([]byte, 4096)
	for left := size; left > 0; left -= len(zeros) {
		if _, err := f.Write(zeros[:min(left, len(zeros))]); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	s.mu.Lock()
	if s.reserved == nil {
		s.reserved = map[string]string{}
	}
	s.reserved[key.ID()] = name
	s.mu.Unlock()
	return func() { s.unreserve(key) }, nil
}

// unreserve removes key's reservation, if any.
func (s *Store) unreserve(key domain.SessionKey) {
	s.mu.Lock()
	name := s.reserved[key.ID()]
	delete(s.reserved, key.ID())
	s.mu.Unlock()
	if name != "" {
		_ = os.Remove(name)
	}
}

func reserveErr(err error, dir string) error {
	msg := "cannot reserve space in the token cache directory " + dir + " for the renewed session; nothing was sent to the Authority"
	hint := "The session is unchanged and still valid. Check the directory (`stella auth doctor`), then run the command again."
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		msg = "no space left in the token cache directory " + dir + " to save a renewed session; nothing was sent to the Authority"
		hint = "Free some space on the file system of " + filepath.Clean(dir) + ", then run the command again: the session is unchanged and still valid."
	}
	return domain.Wrap(domain.KindStorage, err, msg, hint)
}
