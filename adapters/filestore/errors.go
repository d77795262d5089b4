package filestore

import (
	"errors"
	"syscall"

	"github.com/stellaops/stella/domain"
)

func storageErr(err error, msg string) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// Not the passphrase: the disk (or the quota) is full.
		return domain.Wrap(domain.KindStorage, err, msg+": no space left", "Free some space on the token cache directory's file system, then run the command again.")
	}
	return domain.Wrap(domain.KindStorage, err, msg,
		"Check STELLA_CACHE_PASSPHRASE, or run `stella auth doctor`; `stella auth logout --force` then a new sign-in replaces the file.")
}

// keyUnavailable marks a failure to get the key at all (no passphrase, the
// keychain not answering), as opposed to a key that does not open a file.
type keyUnavailable struct{ error }

func (k keyUnavailable) Unwrap() error { return k.error }

// foreignMode explains a file sealed by the other kind of store.
func foreignMode(p, kdf string) error {
	if kdf == kdfKeychain {
		return domain.ESignIn(domain.KindStorage, "the session file "+p+" is sealed with a key in the OS keychain",
			domain.SignInHint{Before: "Use --token-storage keychain (or auto), or sign in again with ", Flags: " --force", After: "."})
	}
	return domain.ESignIn(domain.KindStorage, "the session file "+p+" is sealed with a passphrase",
		domain.SignInHint{Before: "Use --token-storage file with STELLA_CACHE_PASSPHRASE set, or sign in again with ", Flags: " --force", After: "."})
}
