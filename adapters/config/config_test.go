package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) (home, dir string) {
	home = t.TempDir()
	dir = filepath.Join(home, ".stellaops")
	write(t, filepath.Join(dir, "config.yaml"), `StellaOps:
  Authority:
    Url: https://config.example.com
    Scope: "from.config"
    Audience: https://aud.config
  BackendUrl: https://backend.config
`, 0o600)
	write(t, filepath.Join(dir, "profiles", "p.yaml"), `StellaOps:
  Authority:
    Url: https://profile.example.com
    Scope: "from.profile"
`, 0o600)
	return home, dir
}

func effective(s domain.Settings, key string) domain.Setting {
	for _, e := range s.Effective {
		if e.Key == key {
			return e
		}
	}
	return domain.Setting{}
}

func TestPrecedence(t *testing.T) {
	cases := []struct {
		name      string
		flags     Flags
		env       env
		wantScope string
		wantKind  domain.SourceKind
		wantURL   string
	}{
		{"config only", Flags{}, env{}, "from.config", domain.SourceConfig, "https://config.example.com"},
		{"profile over config", Flags{Profile: "p"}, env{}, "from.profile", domain.SourceProfile, "https://profile.example.com"},
		{"env over profile", Flags{Profile: "p"}, env{"STELLA_SCOPE": "from.env"}, "from.env", domain.SourceEnv, "https://profile.example.com"},
		{"profile from env", Flags{}, env{"STELLA_PROFILE": "p"}, "from.profile", domain.SourceProfile, "https://profile.example.com"},
		{"flag over env", Flags{Profile: "p", Scope: "from.flag", Authority: "https://flag.example.com"},
			env{"STELLA_SCOPE": "from.env", "STELLA_AUTHORITY_URL": "https://env.example.com"}, "from.flag", domain.SourceFlag, "https://flag.example.com"},
		{"empty env is unset", Flags{}, env{"STELLA_SCOPE": ""}, "from.config", domain.SourceConfig, "https://config.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home, _ := setup(t)
			s, _, err := Load(Input{Flags: tc.flags, LookupEnv: tc.env.lookup, Home: home})
			if err != nil {
				t.Fatal(err)
			}
			if s.Scopes.String() != tc.wantScope || s.AuthorityURL != tc.wantURL {
				t.Fatalf("scope %q url %q", s.Scopes, s.AuthorityURL)
			}
			if got := effective(s, "Authority.Scope").Source.Kind; got != tc.wantKind {
				t.Fatalf("source %v, want %v", got, tc.wantKind)
			}
			// Layers merge per setting: the profile has no Audience.
			if s.Audience != "https://aud.config" || s.BackendURL != "https://backend.config" {
				t.Fatalf("lower layers lost: %q %q", s.Audience, s.BackendURL)
			}
		})
	}
}

func TestDefaultsAndPaths(t *testing.T) {
	home := t.TempDir()
	s, _, err := Load(Input{LookupEnv: env{"STELLA_TOKEN_CACHE_DIR": "~/cache", "STELLA_CA_BUNDLE": "~/ca.pem"}.lookup, Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if s.ConfigDir != filepath.Join(home, ".stellaops") || s.TokenCacheDir != filepath.Join(home, "cache") || s.CABundleFile != filepath.Join(home, "ca.pem") {
		t.Fatalf("%q %q %q", s.ConfigDir, s.TokenCacheDir, s.CABundleFile)
	}
	if s.AuthMode != domain.AuthModeDPoP || s.TokenStorage != domain.StorageAuto || s.RequestTimeout != 30*time.Second || s.WaitTimeout != 5*time.Minute {
		t.Fatalf("defaults: %v %v %v %v", s.AuthMode, s.TokenStorage, s.RequestTimeout, s.WaitTimeout)
	}
	s, _, _ = Load(Input{Flags: Flags{Timeout: 5 * time.Second}, LookupEnv: env{}.lookup, Home: home})
	if s.RequestTimeout != 5*time.Second {
		t.Fatalf("--timeout must cap each request: %v", s.RequestTimeout)
	}
	s, _, _ = Load(Input{LookupEnv: env{"CI": "true"}.lookup, Home: home})
	if !s.NonInteractive {
		t.Fatal("CI=true must mean non-interactive")
	}
}

func TestSecretsAreReadTrimmedRedactedAndWarned(t *testing.T) {
	home := t.TempDir()
	write(t, filepath.Join(home, "s.secret"), "s3cr3t-value\n", 0o644)
	write(t, filepath.Join(home, "pp"), "pass-phrase-value\r\n", 0o600)
	s, warnings, err := Load(Input{LookupEnv: env{"STELLA_CLIENT_SECRET_FILE": "~/s.secret", "STELLA_CACHE_PASSPHRASE_FILE": filepath.Join(home, "pp"),
		"STELLA_PASSWORD": "pw-value-123"}.lookup, Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientSecret.Reveal() != "s3cr3t-value" || s.CachePassphrase.Reveal() != "pass-phrase-value" || s.Password.Reveal() != "pw-value-123" {
		t.Fatal("secrets not read as expected")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Message, "chmod 600") {
		t.Fatalf("warnings %v", warnings)
	}
	all := fmt.Sprintf("%+v %+v %v", s, s.Effective, warnings)
	for _, secret := range []string{"s3cr3t-value", "pass-phrase-value", "pw-value-123"} {
		if strings.Contains(all, secret) {
			t.Fatalf("%s leaked into settings output", secret)
		}
	}
	if effective(s, "Authority.ClientSecret").Value != "[redacted]" {
		t.Fatal("not redacted")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		flags Flags
		env   env
		msg   string
	}{
		{"unknown key with suggestion", map[string]string{"profiles/ci.yaml": "StellaOps:\n  Authority:\n    Url: https://a.example.com\n    scope: x\n"},
			Flags{Profile: "ci"}, nil, `profiles/ci.yaml:4: unknown key "scope" in StellaOps.Authority (did you mean "Scope"?)`},
		{"ClientID suggests ClientId", map[string]string{"config.yaml": "StellaOps:\n  Authority:\n    ClientID: x\n"}, Flags{}, nil, `did you mean "ClientId"?`},
		{"unknown top key", map[string]string{"config.yaml": "Stellaops: {}\n"}, Flags{}, nil, `config.yaml:1: unknown key "Stellaops" in the top level (did you mean "StellaOps"?)`},
		{"malformed yaml", map[string]string{"config.yaml": "StellaOps:\n  Authority: [\n"}, Flags{}, nil, "malformed YAML"},
		{"list for a string", map[string]string{"config.yaml": "StellaOps:\n  Authority:\n    Scope: [a, b]\n"}, Flags{}, nil, "config.yaml:3: StellaOps.Authority.Scope must be a single value"},
		{"duplicate key", map[string]string{"config.yaml": "StellaOps:\n  BackendUrl: https://a\n  BackendUrl: https://b\n"}, Flags{}, nil, "appears twice"},
		{"missing profile", map[string]string{"profiles/a.yaml": "", "profiles/b.yaml": ""}, Flags{Profile: "nope"}, nil, `profile "nope" does not exist`},
		{"profile escaping the dir", nil, Flags{Profile: "../x"}, nil, "is not valid"},
		{"absolute profile", nil, Flags{Profile: "/etc/passwd"}, nil, "is not valid"},
		{"bad auth mode", nil, Flags{AuthMode: "magic"}, nil, `unknown auth mode "magic"`},
		{"bad storage", nil, Flags{}, env{"STELLA_TOKEN_STORAGE": "cloud"}, `unknown token storage "cloud"`},
		{"http authority off loopback", nil, Flags{Authority: "http://authority.example.com"}, nil, "plain http on a non-loopback host"},
		{"control character in scope", nil, Flags{Scope: "a\x07b"}, nil, "character OAuth does not allow"},
		{"bad timeout", nil, Flags{}, env{"STELLA_TIMEOUT": "forever"}, "STELLA_TIMEOUT"},
		{"secret and secret file", nil, Flags{}, env{"STELLA_CLIENT_SECRET": "a", "STELLA_CLIENT_SECRET_FILE": "/x"}, "both STELLA_CLIENT_SECRET and STELLA_CLIENT_SECRET_FILE"},
		{"unreadable secret file", nil, Flags{}, env{"STELLA_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "secret file /nonexistent/secret"},
		{"huge value", nil, Flags{ClientID: strings.Repeat("x", 5000)}, nil, "longer than 4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			for name, content := range tc.files {
				write(t, filepath.Join(home, ".stellaops", name), content, 0o600)
			}
			e := tc.env
			if e == nil {
				e = env{}
			}
			_, _, err := Load(Input{Flags: tc.flags, LookupEnv: e.lookup, Home: home})
			if domain.KindOf(err) != domain.KindUsage || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v", err)
			}
			if domain.HintFor(err) == "" {
				t.Fatal("no hint")
			}
		})
	}
}

func TestTaskPackProfilesParse(t *testing.T) {
	profiles, err := ListProfiles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range profiles {
		names = append(names, p.Name+"="+p.ClientID)
	}
	if got := strings.Join(names, ","); got != "packs-approver=pack-approver,packs-operator=pack-operator,packs-publisher=pack-publisher" {
		t.Fatal(got)
	}
}

func FuzzLoadYAML(f *testing.F) {
	for _, seed := range []string{"", "StellaOps:\n  Authority:\n    Url: https://a\n", "StellaOps: [", "StellaOps:\n  Authority: &a {Url: x}\n  BackendUrl: *a\n",
		"? [a]\n: b\n", "StellaOps:\n  Authority:\n    Scope: !!binary aGVsbG8=\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		layer, err := parseLayer("fuzz.yaml", []byte(doc))
		if err != nil {
			if domain.KindOf(err) != domain.KindUsage || !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error without kind or location: %v", err)
			}
			return
		}
		for k := range layer.values {
			if !strings.HasPrefix(k, "Authority.") && k != "BackendUrl" {
				t.Fatalf("unknown key %q accepted", k)
			}
		}
	})
}

func TestRememberKeepsTheRestOfTheFile(t *testing.T) {
	dir := t.TempDir()
	orig := "# team defaults\nStellaOps:\n  Authority:\n    Url: https://authority.example.com # the issuer\n    TokenStorage: auto\n  BackendUrl: https://backend.example.com\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := Remember(dir, "TokenStorage", "file")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"# team defaults", "Url: https://authority.example.com # the issuer", "TokenStorage: file", "BackendUrl: https://backend.example.com"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.yaml lost %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "auto") {
		t.Errorf("old value kept:\n%s", b)
	}
	// A fresh directory gets a minimal file.
	fresh := t.TempDir()
	if _, err := Remember(fresh, "TokenStorage", "file"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(fresh, "config.yaml"))
	if string(b) != "StellaOps:\n  Authority:\n    TokenStorage: file\n" {
		t.Errorf("fresh config.yaml = %q", b)
	}
	// A file stella cannot read is never rewritten.
	bad := t.TempDir()
	_ = os.WriteFile(filepath.Join(bad, "config.yaml"), []byte("StellaOps:\n  Authority:\n    Urll: x\n"), 0o600)
	if _, err := Remember(bad, "TokenStorage", "file"); domain.KindOf(err) != domain.KindUsage {
		t.Errorf("bad file: %v", err)
	}
}

// A syntax error is reported on the line the fault is on, not where the
// enclosing block began, and the line is said once.
func TestSyntaxErrorLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
	}{
		{"bad indent", "StellaOps:\n  Authority:\n    Url: https://a.example.com\n   ClientId: x\n", 4},
		{"tab", "StellaOps:\n  Authority:\n    Url: https://a.example.com\n\tClientId: x\n", 4},
		{"mapping in value", "StellaOps:\n  Authority:\n    ClientId: a: b\n", 3},
		{"unterminated quote", "StellaOps:\n  Authority:\n    ClientId: \"x\n", 3},
		{"fine until the end", "StellaOps:\n  BackendUrl: https://b.example.com\n  Authority:\n    Url: https://a.example.com\n  - x\n", 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseLayer("p.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			want := fmt.Sprintf("p.yaml:%d: ", tc.line)
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "line ") {
				t.Fatalf("%q, want prefix %q and no second line number", err.Error(), want)
			}
		})
	}
}

func TestKeyCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		name, env, yaml string
		want            time.Duration
		err             string
	}{
		{name: "default", want: 15 * time.Minute},
		{name: "env duration", env: "90s", want: 90 * time.Second},
		{name: "env seconds", env: "600", want: 10 * time.Minute},
		{name: "off", env: "0", want: 0},
		{name: "a fraction rounds up to the kernel's seconds", env: "1500ms", want: 2 * time.Second},
		{name: "yaml", yaml: "    KeyCacheTTL: 1h\n", want: time.Hour},
		{name: "yaml off", yaml: "    KeyCacheTTL: 0\n", want: 0},
		{name: "env beats yaml", env: "5m", yaml: "    KeyCacheTTL: 1h\n", want: 5 * time.Minute},
		{name: "negative", env: "-1m", err: `KeyCacheTTL "-1m" (from env STELLA_KEY_CACHE_TTL) is not a duration between 0 and 24h`},
		{name: "too long", yaml: "    KeyCacheTTL: 48h\n", err: `KeyCacheTTL "48h" (from config `},
		{name: "not a duration", env: "soon", err: "is not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			dir := filepath.Join(home, ".stellaops")
			write(t, filepath.Join(dir, "config.yaml"), "StellaOps:\n  Authority:\n"+tc.yaml, 0o600)
			e := env{}
			if tc.env != "" {
				e["STELLA_KEY_CACHE_TTL"] = tc.env
			}
			s, _, err := Load(Input{LookupEnv: e.lookup, Home: home})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || domain.KindOf(err) != domain.KindUsage {
					t.Fatalf("err = %v, want a usage error containing %q", err, tc.err)
				}
				return
			}
			if err != nil || s.KeyCacheTTL != tc.want {
				t.Fatalf("KeyCacheTTL = %s, %v; want %s", s.KeyCacheTTL, err, tc.want)
			}
		})
	}
}

// A setting takes a flag's value by the spelling in Flags' flag tags; one
// spelled differently would silently never be set from its flag.
func TestSettingsNameFlagsThatExist(t *testing.T) {
	spelled := map[string]bool{}
	flags := reflect.TypeFor[Flags]()
	for i := range flags.NumField() {
		spelled[flags.Field(i).Tag.Get("flag")] = true
	}
	for _, s := range settings {
		if s.flag != "" && !spelled[s.flag] {
			t.Errorf("setting %s takes flag %q, which Flags does not have", s.key, s.flag)
		}
	}
}

// A syntax error names file and line and never repeats the file's text:
// the line at fault may be a secret's.
func TestSyntaxErrorsDoNotRepeatTheFile(t *testing.T) {
	for _, doc := range []string{
		"StellaOps:\n  Authority:\n    ClientSecret: |hunter2-secret\n",
		"StellaOps:\n  Authority:\n    ClientSecret: >hunter2-secret\n",
		"%YAML hunter2-secret\n---\nStellaOps: {}\n",
		"StellaOps:\n  Authority:\n    ClientSecret: !<hunter2-secret> x\n",
	} {
		_, err := parseLayer("p.yaml", []byte(doc))
		if err == nil {
			continue // the parser took it; nothing to say
		}
		if !strings.HasPrefix(err.Error(), "p.yaml:") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v", doc, err)
		}
	}
}
