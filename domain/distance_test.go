package domain

import (
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"status", "status", 0},
		{"stauts", "status", 2},
		{"loign", "login", 2},
		{"logn", "login", 1},
		{"", "token", 5},
		{"kitten", "sitting", 3},
		{strings.Repeat("a", 65), "a", 99},
	} {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
