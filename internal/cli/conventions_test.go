package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The spellings gh, git and kubectl users type become kong's.
func TestConventions(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "--help"},
		{"-v", "-v --help"},
		{"--version", "version"},
		{"-v --version --json", "-v version --json"},
		{"help", "--help"},
		{"help auth login", "auth login --help"},
		{"--profile x help api", "--profile x api --help"},
		{"auth", "auth --help"},
		{"pack", "pack --help"},
		{"auth login", "auth login"},
		{"api --version", "api --version"},
		{"--profile", "--profile"},
		{"--profile help", "--profile help --help"},
	}
	for _, tc := range cases {
		got := strings.Join(conventions(strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("conventions(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// gh api's field rules: -f strings, -F typed, key[] arrays, key[sub] objects.
func TestFields(t *testing.T) {
	c := &APICmd{RawFields: []string{"raw=42", "s=true"}, Fields: []string{"n=2", "f=1.5", "b=false", "z=null", "l[]=a", "l[]=b", "o[k]=v", "o[p][q]=1", "x=0x10"}}
	got, err := c.fieldValues(&Runtime{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"raw": "42", "s": "true", "n": int64(2), "f": 1.5, "b": false, "z": nil, "l": []any{"a", "b"},
		"o": map[string]any{"k": "v", "p": map[string]any{"q": int64(1)}}, "x": "0x10"}
	if f, w := sprint(got), sprint(want); f != w {
		t.Fatalf("got %s\nwant %s", f, w)
	}
	for _, bad := range []string{"novalue", "=v", "a[=1", "a[]x=1"} {
		if _, err := (&APICmd{Fields: []string{bad}}).fieldValues(&Runtime{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	q := withQuery("/x?a=1", map[string]any{"b": int64(2), "l": []any{"p", "q"}})
	if !strings.HasPrefix(q, "/x?a=1&") || !slices.Contains(strings.Split(strings.SplitN(q, "&", 2)[1], "&"), "b=2") {
		t.Fatalf("query %q", q)
	}
}

// sprint is v as JSON: maps print with sorted keys, so two compare.
func sprint(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
