// Package memstore keeps sessions in memory only: nothing is persisted, so
// a CI job leaves no credential on the runner's disk.
package memstore

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Store is an in-memory ports.SessionStore.
type Store struct {
	reason   string
	mu       sync.Mutex
	sessions map[domain.SessionKey]domain.Session
}

// New returns an empty store.
func New() *Store { return NewWithReason("") }

// NewWithReason returns an empty store whose Info says why it was chosen.
func NewWithReason(reason string) *Store {
	return &Store{reason: reason, sessions: map[domain.SessionKey]domain.Session{}}
}

var _ ports.SessionStore = (*Store)(nil)

// Load returns the session of key.
func (s *Store) Load(_ context.Context, key domain.SessionKey) (domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[key]
	if !ok {
		return domain.Session{}, fmt.Errorf("session %s: %w", key.ID(), domain.ErrNotFound)
	}
	return v, nil
}

// Save stores a session after checking it.
func (s *Store) Save(_ context.Context, v domain.Session) error {
	if err := v.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[v.Key] = v
	return nil
}

// Delete forgets a session; a missing one is not an error.
func (s *Store) Delete(_ context.Context, key domain.SessionKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, key)
	return nil
}

// List returns the stored keys in a stable order.
func (s *Store) List(context.Context) ([]domain.SessionKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]domain.SessionKey, 0, len(s.sessions))
	for k := range s.sessions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	return keys, nil
}

// Info describes the store.
func (s *Store) Info() ports.StoreInfo {
	return ports.StoreInfo{Kind: domain.StorageMemory, Label: "memory", Reason: s.reason}
}
