package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stellaops/stella/domain"
)

func TestRememberRewrites(t *testing.T) {
	for _, tc := range []struct {
		name, file, key, value, want string
		kind                         domain.Kind // of the error; the file is then left alone
	}{
		{name: "null StellaOps", file: "StellaOps:\n", key: "TokenStorage", value: "file",
			want: "StellaOps:\n  Authority:\n    TokenStorage: file\n"},
		{name: "replaces", file: "StellaOps:\n  Authority:\n    TokenStorage: auto # was\n", key: "TokenStorage", value: "file",
			want: "StellaOps:\n  Authority:\n    TokenStorage: file # was\n"},
		{name: "four spaces", file: "StellaOps:\n    Authority:\n        Url: https://a\n", key: "TokenStorage", value: "file",
			want: "StellaOps:\n    Authority:\n        Url: https://a\n        TokenStorage: file\n"},
		{name: "adds Authority", file: "# mine\nStellaOps:\n  BackendUrl: https://b # the backend\n", key: "TokenStorage", value: "file",
			want: "# mine\nStellaOps:\n  BackendUrl: https://b # the backend\n  Authority:\n    TokenStorage: file\n"},
		{name: "comments only", file: "# nothing yet\n", key: "TokenStorage", value: "file",
			want: "# nothing yet\nStellaOps:\n  Authority:\n    TokenStorage: file\n"},
		{name: "no final newline", file: "# nothing yet", key: "TokenStorage", value: "file",
			want: "# nothing yet\nStellaOps:\n  Authority:\n    TokenStorage: file\n"},
		{name: "flow style", file: "StellaOps: {Authority: {Url: https://a}}\n", key: "TokenStorage", value: "file"},
		{name: "document markers", file: "---\nStellaOps:\n  Authority:\n    Url: https://a\n...\n", key: "TokenStorage", value: "file"},
		{name: "quoted value", file: "StellaOps:\n  Authority:\n    Url: https://a\n", key: "Scope", value: "openid packs:read"},
		{name: "a value YAML would read as a bool", file: "", key: "Username", value: "yes",
			want: "StellaOps:\n  Authority:\n    Username: \"yes\"\n"},
		{name: "anchored mapping", file: "StellaOps:\n  Authority: &a\n    Url: https://a\n", key: "TokenStorage", value: "file",
			want: "StellaOps:\n  Authority: &a\n    Url: https://a\n    TokenStorage: file\n"},
		{name: "tagged mapping", file: "StellaOps:\n  Authority: !!map\n    Url: https://a\n", key: "TokenStorage", value: "file", kind: domain.KindUsage},
		{name: "alias elsewhere kept", file: "StellaOps:\n  BackendUrl: &u https://b\n  Authority:\n    Url: *u\n", key: "TokenStorage", value: "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(file, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			before, err := readLayer(file, false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Remember(dir, tc.key, tc.value)
			b, _ := os.ReadFile(file)
			if tc.kind != 0 {
				if domain.KindOf(err) != tc.kind || string(b) != tc.file {
					t.Fatalf("err = %v (kind %v), file %q; want kind %v and the file untouched", err, domain.KindOf(err), b, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && string(b) != tc.want {
				t.Fatalf("config.yaml =\n%s\nwant\n%s", b, tc.want)
			}
			after, err := readLayer(file, false)
			if err != nil {
				t.Fatalf("the rewritten file does not read: %v\n%s", err, b)
			}
			if !onlyChanged(before, after, "Authority."+tc.key, tc.value) {
				t.Fatalf("values %v became %v", before.values, after.values)
			}
		})
	}
}

func TestUseProfileRewrites(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ops", "ci"} {
		if err := os.WriteFile(filepath.Join(dir, "profiles", name+".yaml"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	orig := "StellaOps:\n  # kept\n  BackendUrl: https://b\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ops", "ci"} {
		if _, err := UseProfile(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if want := orig + "  ActiveProfile: ci\n"; string(b) != want {
		t.Fatalf("config.yaml = %q, want %q", b, want)
	}
}

// Whatever file stella accepts, remembering a setting either rewrites it
// to say that setting and everything it said before, or leaves it alone
// with an error of a kind; it never panics.
func FuzzRemember(f *testing.F) {
	for _, seed := range []string{"", "# c\n", "StellaOps:\n", "StellaOps:\n  Authority:\n    Url: https://a # x\n",
		"StellaOps: {Authority: {Url: a}, BackendUrl: b}\n", "StellaOps:\n  Authority: &a\n    Url: x\n",
		"---\nStellaOps:\n    BackendUrl: |\n      b\n...\n", "StellaOps:\n  Authority:\n    TokenStorage: !!str auto\n"} {
		f.Add(seed, "file")
	}
	f.Fuzz(func(t *testing.T, doc, value string) {
		if _, err := parseLayer("fuzz.yaml", []byte(doc)); err != nil {
			return
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Remember(dir, "TokenStorage", value)
		b, _ := os.ReadFile(file)
		if err != nil {
			if k := domain.KindOf(err); k != domain.KindUsage && k != domain.KindUnexpected {
				t.Fatalf("error without a kind: %v", err)
			}
			if string(b) != doc {
				t.Fatalf("a failed rewrite changed the file:\n%s", b)
			}
			return
		}
		after, err := parseLayer("fuzz.yaml", b)
		if err != nil || after.values["Authority.TokenStorage"].value != value {
			t.Fatalf("rewritten file does not say TokenStorage: %q (%v):\n%s", value, err, b)
		}
		if strings.Count(string(b), "TokenStorage") == 0 {
			t.Fatal("no TokenStorage written")
		}
	})
}
