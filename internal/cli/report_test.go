package cli

import "testing"

func TestWithoutValue(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		cut      bool
	}{
		{`--password: bool value must be true, 1, yes, false, 0 or no but got "s3cret"`, "--password: bool value must be true, 1, yes, false, 0 or no", true},
		{`--min-ttl: expected duration but got "s3cret": time: invalid duration "s3cret"`, "--min-ttl: expected duration", true},
		{`unknown flag --client-secret`, `unknown flag --client-secret`, false},
		{`unexpected argument s3cret`, `unexpected argument s3cret`, false},
	} {
		got, cut := withoutValue(tc.in)
		if got != tc.want || cut != tc.cut {
			t.Errorf("withoutValue(%q) = %q, %v; want %q, %v", tc.in, got, cut, tc.want, tc.cut)
		}
	}
}
