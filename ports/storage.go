package ports

import (
	"context"
	"time"

	"github.com/stellaops/stella/domain"
)

// The ports of the storage choice (TokenStorage: auto, SPEC §5): the app
// decides where sessions live from what these report, and the composition
// root only supplies them.

// KeychainVerdict is what a probe of the OS keychain found.
type KeychainVerdict struct {
	OK     bool
	Detail string    // why not, when not OK
	At     time.Time // when the probe ran
	Cached bool      // kept by an earlier command's probe
}

// KeychainProbe asks whether the OS keychain can be used here, and keeps
// the answer for later commands (per desktop session and for a while), so
// a hung D-Bus costs one timeout, not one per command.
type KeychainProbe interface {
	// Remembered is a verdict kept earlier that still holds at now; it
	// never asks the keychain.
	Remembered(now time.Time) (KeychainVerdict, bool)
	// Probe asks the keychain now, bounded by a short timeout, and keeps
	// nothing.
	Probe(ctx context.Context, now time.Time) KeychainVerdict
	// Remember keeps v for Remembered; best effort: without it the next
	// command probes again.
	Remember(v KeychainVerdict)
}

// StoreMaker makes the session stores a storage choice picks among.
// Making one does no I/O; reason is why it was chosen, for Info.
type StoreMaker interface {
	// KeychainStore seals sessions with data keys kept in the OS keychain.
	KeychainStore(reason string) SessionStore
	// FileStore seals sessions with a key derived from a passphrase,
	// configured or asked for.
	FileStore(reason string) SessionStore
	// MemoryStore keeps sessions in this process only.
	MemoryStore(reason string) SessionStore
}

// ConsentRecorder keeps a person's choice of storage (in config.yaml), so
// they are asked once; where says where it was kept.
type ConsentRecorder interface {
	RecordStorage(kind domain.StorageKind) (where string, err error)
}

// SessionInspector is a store that can open every session it keeps, for
// `auth doctor`, moving the unreadable ones aside; a store that keeps
// nothing across processes (memory) has nothing to inspect and is not one.
type SessionInspector interface {
	Inspect(ctx context.Context) ([]SessionFile, error)
}
