package app

import (
	"context"
	"log/slog"
	"sync"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// DeferredStore is the session store of TokenStorage: auto. It makes its
// StorageChoice on first use, once, and is the chosen store from then on:
// a command that touches no session never probes or prompts. A failed
// choice is kept too, so a command asks at most once.
type DeferredStore struct {
	choice *StorageChoice
	log    *slog.Logger

	mu     sync.Mutex
	chosen ports.SessionStore
	err    error
}

var (
	_ ports.SessionStore     = (*DeferredStore)(nil)
	_ ports.Quarantiner      = (*DeferredStore)(nil)
	_ ports.SpaceReserver    = (*DeferredStore)(nil)
	_ ports.KeyCacheReporter = (*DeferredStore)(nil)
	_ ports.SessionInspector = (*DeferredStore)(nil)
)

// NewDeferredStore returns the store choice stands for; it does no I/O.
func NewDeferredStore(choice *StorageChoice, log *slog.Logger) *DeferredStore {
	return &DeferredStore{choice: choice, log: log}
}

// Resolve decides (once) and returns the store d stands for.
func (d *DeferredStore) Resolve(ctx context.Context) (ports.SessionStore, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.chosen == nil && d.err == nil {
		d.chosen, d.err = d.choice.Do(ctx)
		if d.err == nil {
			i := d.chosen.Info()
			d.log.Debug("storage decision", "storage", i.Kind, "reason", i.Reason)
		} else {
			d.log.Debug("storage decision failed", "storage", domain.StorageAuto, "error", d.err)
		}
	}
	return d.chosen, d.err
}

func (d *DeferredStore) Load(ctx context.Context, key domain.SessionKey) (domain.Session, error) {
	st, err := d.Resolve(ctx)
	if err != nil {
		return domain.Session{}, err
	}
	return st.Load(ctx, key)
}

func (d *DeferredStore) Save(ctx context.Context, sess domain.Session) error {
	st, err := d.Resolve(ctx)
	if err != nil {
		return err
	}
	return st.Save(ctx, sess)
}

func (d *DeferredStore) Delete(ctx context.Context, key domain.SessionKey) error {
	st, err := d.Resolve(ctx)
	if err != nil {
		return err
	}
	return st.Delete(ctx, key)
}

func (d *DeferredStore) List(ctx context.Context) ([]domain.SessionKey, error) {
	st, err := d.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	return st.List(ctx)
}

// Info describes the chosen backend; before the first use it says the
// choice is still open rather than probing.
func (d *DeferredStore) Info() ports.StoreInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.chosen != nil {
		return d.chosen.Info()
	}
	reason := "auto: not decided yet"
	if d.err != nil {
		reason = "auto: " + d.err.Error()
	}
	return ports.StoreInfo{Kind: domain.StorageAuto, Label: "none", Reason: reason}
}

// Quarantine moves a session aside in the chosen store, when it can.
func (d *DeferredStore) Quarantine(ctx context.Context, key domain.SessionKey) (string, error) {
	st, err := d.Resolve(ctx)
	if err != nil {
		return "", err
	}
	if q, ok := st.(ports.Quarantiner); ok {
		return q.Quarantine(ctx, key)
	}
	return "", nil
}

// Reserve reserves space in the chosen store, when it can.
func (d *DeferredStore) Reserve(ctx context.Context, key domain.SessionKey) (func(), error) {
	st, err := d.Resolve(ctx)
	if err != nil {
		return func() {}, err
	}
	if r, ok := st.(ports.SpaceReserver); ok {
		return r.Reserve(ctx, key)
	}
	return func() {}, nil
}

// Inspect opens the chosen store's sessions for `auth doctor`; a store
// that keeps nothing across processes has none.
func (d *DeferredStore) Inspect(ctx context.Context) ([]ports.SessionFile, error) {
	st, err := d.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	if in, ok := st.(ports.SessionInspector); ok {
		return in.Inspect(ctx)
	}
	return nil, nil
}

// KeyCacheStatus is the chosen store's; nothing before the choice, which
// it does not make.
func (d *DeferredStore) KeyCacheStatus(key domain.SessionKey) ports.KeyCacheStatus {
	d.mu.Lock()
	chosen := d.chosen
	d.mu.Unlock()
	if r, ok := chosen.(ports.KeyCacheReporter); ok {
		return r.KeyCacheStatus(key)
	}
	return ports.KeyCacheStatus{}
}

// Locker is the session lock that follows the choice: file beside a store
// that keeps sessions on disk, mem for memory, which must leave nothing
// on disk — not even a lock file.
func (d *DeferredStore) Locker(file, mem ports.SessionLocker) ports.SessionLocker {
	return deferredLocker{d: d, file: file, mem: mem}
}

type deferredLocker struct {
	d         *DeferredStore
	file, mem ports.SessionLocker
}

func (l deferredLocker) Lock(ctx context.Context, key domain.SessionKey) (func(), error) {
	st, err := l.d.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	if st.Info().Kind == domain.StorageMemory {
		return l.mem.Lock(ctx, key)
	}
	return l.file.Lock(ctx, key)
}
