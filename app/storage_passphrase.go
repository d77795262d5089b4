package app

import (
	"context"
	"fmt"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Passphrases is where the encrypted file store's passphrase comes from
// (SPEC §5): the settings (CachePassphrase), or else the person at the
// terminal — asked once, a new one twice, a wrong one again, each at most
// MaxPassphraseTries times.
type Passphrases struct {
	settings domain.Settings
	prompter ports.Prompter
}

// MaxPassphraseTries is how often a person may type a passphrase (the
// file store allows the same number for a wrong one).
const MaxPassphraseTries = 3

// NewPassphrases returns the passphrases of s; p asks for one when none is
// configured, and may be nil where one is.
func NewPassphrases(s domain.Settings, p ports.Prompter) *Passphrases {
	return &Passphrases{settings: s, prompter: p}
}

// Current takes the cache passphrase from the settings, or asks for it
// once on an interactive terminal. An empty one after three tries is
// returned as is: the store says what is wrong with it.
func (u *Passphrases) Current(ctx context.Context) (domain.Secret, error) {
	if !u.settings.CachePassphrase.IsZero() {
		return u.settings.CachePassphrase, nil
	}
	if !u.prompter.Interactive() {
		return domain.Secret{}, domain.E(domain.KindStorage, "the encrypted token cache needs a passphrase",
			"Set STELLA_CACHE_PASSPHRASE or STELLA_CACHE_PASSPHRASE_FILE, or run interactively to be asked.")
	}
	prompt := "Passphrase for the stella token cache: "
	for try := 1; ; try++ {
		pp, err := u.prompter.Secret(ctx, prompt)
		if err != nil || !pp.IsZero() || try == MaxPassphraseTries {
			return pp, err
		}
		prompt = "The passphrase may not be empty. Passphrase: "
	}
}

// New asks for a new passphrase twice: nothing can check a typo in one
// nobody has used yet, and a typo would lock the session away.
func (u *Passphrases) New(ctx context.Context) (domain.Secret, error) {
	prompt := "New passphrase for the stella token cache: "
	for try := 1; ; try++ {
		a, err := u.prompter.Secret(ctx, prompt)
		if err != nil {
			return domain.Secret{}, err
		}
		if a.IsZero() {
			prompt = "The passphrase may not be empty. New passphrase: "
		} else {
			b, err := u.prompter.Secret(ctx, "Type it again: ")
			if err != nil {
				return domain.Secret{}, err
			}
			if a.Equal(b) {
				return a, nil
			}
			prompt = "The two did not match. New passphrase: "
		}
		if try == MaxPassphraseTries {
			return domain.Secret{}, domain.E(domain.KindStorage, "no passphrase was confirmed (typed twice alike) in three tries",
				"Run the command again and type the same passphrase twice; nothing was saved.")
		}
	}
}

// Again asks once more after a passphrase that did not open a session;
// attempt is 2 or 3.
func (u *Passphrases) Again(ctx context.Context, attempt int) (domain.Secret, error) {
	return u.prompter.Secret(ctx, fmt.Sprintf("Wrong passphrase; try again (%d of %d): ", attempt, MaxPassphraseTries))
}
