package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestLoginCommand(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{"", "stella auth login"},
		{"work", "stella auth login --profile work"},
		{"it's", `stella auth login --profile 'it'\''s'`},
	} {
		if got := (Settings{Profile: tc.profile}).LoginCommand(); got != tc.want {
			t.Errorf("profile %q: %q, want %q", tc.profile, got, tc.want)
		}
	}
}

// A hint written where the profile is unknown names the profile in use once
// the settings fill it in; other hints stay as written.
func TestSettingsHintFor(t *testing.T) {
	work := Settings{Profile: "work"}
	adapter := ESignIn(KindStorage, "key unreadable", SignInHint{"Sign in again with ", " --force", "."})
	cases := []struct {
		name string
		err  error
		s    Settings
		want string
	}{
		{"adapter hint, default profile", adapter, Settings{}, "Sign in again with `stella auth login --force`."},
		{"adapter hint, named profile", fmt.Errorf("load: %w", adapter), work, "Sign in again with `stella auth login --profile work --force`."},
		{"wrapped", WrapSignIn(KindLoginRequired, errors.New("x"), "m", SignInHint{"Run ", " --headless", " again."}), work, "Run `stella auth login --profile work --headless` again."},
		{"kind default", fmt.Errorf("x: %w", ErrLoginRequired), work, "Sign in with `stella auth login --profile work`."},
		{"kind default unauthorized", ErrUnauthorized, work, "Sign in again with `stella auth login --profile work --force`, or check the client credentials."},
		{"plain hint kept", Wrap(KindLoginRequired, adapter, "outer", "outer hint"), work, "outer hint"},
		{"other kind default", ErrServer, work, kindTable[KindServer].hint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.HintFor(tc.err); got != tc.want {
				t.Fatalf("hint %q, want %q", got, tc.want)
			}
		})
	}
	if adapter.Hint != "Sign in again with `stella auth login --force`." || HintFor(adapter) != adapter.Hint {
		t.Fatalf("the Hint field is the default profile's advice: %q", adapter.Hint)
	}
}
