package filestore

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

var _ ports.SessionInspector = (*Store)(nil)

// Inspect opens every session file in the directory, for `auth doctor`. A
// file that is not a stella session, or that this store's key does not
// open (tampered, truncated, another format version, a wrong passphrase),
// is moved aside and named; a file sealed by the other kind of store is
// reported but left alone, since that store can still read it.
func (s *Store) Inspect(ctx context.Context) ([]ports.SessionFile, error) {
	names, err := s.sessionFiles()
	if err != nil {
		return nil, err
	}
	var out []ports.SessionFile
	for _, name := range names {
		f := ports.SessionFile{Path: filepath.Join(s.cfg.Dir, name)}
		b, err := readBounded(f.Path, s.warn)
		if err != nil {
			f.Err = storageErr(err, "cannot read "+f.Path)
			out = append(out, f)
			continue
		}
		h, _, _, perr := parse(b)
		if perr == nil {
			f.Key = domain.SessionKey{Profile: h.Profile, Issuer: h.Issuer, ClientID: h.ClientID}
		}
		switch {
		case perr != nil:
			f.Err = storageErr(nil, "not a stella session this version can read ("+perr.Error()+")")
		case f.Key.ID()+suffix != name:
			f.Err = storageErr(nil, "its header names another session")
		case h.KDF != s.mode():
			f.Err = foreignMode(f.Path, h.KDF)
			out = append(out, f)
			continue
		default:
			if _, err := s.Load(ctx, f.Key); err != nil {
				var ku keyUnavailable
				if errors.As(err, &ku) || domain.KindOf(err) != domain.KindStorage || ctx.Err() != nil {
					// No passphrase, the keychain down: nothing to conclude
					// about the file itself.
					return out, err
				}
				f.Err = err
			}
		}
		if f.Err != nil {
			if f.MovedTo, err = Quarantine(f.Path, time.Now()); err != nil {
				return out, err
			}
		}
		out = append(out, f)
	}
	return out, nil
}
