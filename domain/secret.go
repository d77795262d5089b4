package domain

import (
	"fmt"
	"log/slog"
)

// Secret holds a credential: a token, a client secret, a password, a private
// key, a passphrase. Every way Go has of printing or encoding a value shows
// "[redacted]", so a secret that reaches a log line, an error message or a
// JSON document by accident leaks nothing. Reveal is the one door to the
// value; tools/audit limits which packages may open it.
type Secret struct{ v string }

const redacted = "[redacted]"

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential itself. Call it only where the value must go
// on the wire or into a store.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// Equal compares two secrets without revealing either.
func (s Secret) Equal(o Secret) bool { return s.v == o.v }

func (Secret) String() string   { return redacted }
func (Secret) GoString() string { return redacted }

// Format covers %v, %+v, %#v, %s, %q and %x alike.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
