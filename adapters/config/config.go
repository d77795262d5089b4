// Package config resolves stella's settings from flags, STELLA_*
// environment variables, the selected profile and config.yaml, in that
// order of precedence (SPEC §2), and records where every value came from.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Defaults. DPoP is the default binding (SPEC §3.9): a stolen token is
// useless without the session's key; bearer is an explicit choice.
const (
	DefaultAuthMode       = domain.AuthModeDPoP
	DefaultTokenStorage   = domain.StorageAuto
	DefaultRequestTimeout = 30 * time.Second
	DefaultWaitTimeout    = 5 * time.Minute
	maxValueLen           = 4096
	maxSecretFile         = 64 << 10
)

const (
	// DefaultKeyCacheTTL is how long a derived or keychain key stays in the
	// kernel keyring: a working session's worth of commands, short enough
	// that a key left behind by a forgotten terminal does not live on.
	DefaultKeyCacheTTL = 15 * time.Minute
	// maxKeyCacheTTL bounds KeyCacheTTL: longer than a working day is a
	// key nobody remembers is there.
	maxKeyCacheTTL = 24 * time.Hour
)

// Flags are the global flags as parsed; zero values mean "not given".
// They have the fields of the CLI's Globals, in its order, so the CLI
// converts (config.Flags(globals)) and the compiler keeps the two in step;
// a flag tag is the spelling a value from that flag is reported under
// (Source.Detail), and what a setting's flag names.
type Flags struct {
	Profile        string        `flag:"--profile"`
	Authority      string        `flag:"--authority"`
	ClientID       string        `flag:"--client-id"`
	Scope          string        `flag:"--scope"`
	AddScope       []string      `flag:"--add-scope"`
	Backend        string        `flag:"--backend"`
	AuthMode       string        `flag:"--auth-mode"`
	TokenStorage   string        `flag:"--token-storage"`
	TokenCacheDir  string        `flag:"--token-cache-dir"`
	ConfigDir      string        `flag:"--config-dir"`
	Verbose        int           `flag:"--verbose"`
	JSON           bool          `flag:"--json"`
	NonInteractive bool          `flag:"--non-interactive"`
	Timeout        time.Duration `flag:"--timeout"`
}

// Input is everything outside the files.
type Input struct {
	Flags     Flags
	LookupEnv func(string) (string, bool)
	Home      string
}

// Warning is something the user should know but that does not stop stella.
type Warning struct{ Message string }

// validProfileName allows [A-Za-z0-9][A-Za-z0-9._-]{0,63}: no separator and
// no "..", so a name can never leave the profiles directory. (A loop, not a
// regexp: compiling one at start-up costs every invocation.)
func validProfileName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i, c := range n {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return !strings.Contains(n, "..")
}

// setting describes one configurable value and where it may come from.
type setting struct {
	key     string // display key, and the YAML path under StellaOps
	flag    string
	env     []string // first set wins
	yaml    bool
	path    bool // ~ expansion
	secret  bool
	fileEnv string // env var naming a file holding the secret
	fileKey string // YAML key (under Authority) naming a file holding the secret
	// cacheURL values are shown with their password redacted.
	cacheURL bool
}

var settings = []setting{
	{key: "Authority.Url", flag: "--authority", env: []string{"STELLA_AUTHORITY_URL"}, yaml: true},
	{key: "Authority.ClientId", flag: "--client-id", env: []string{"STELLA_CLIENT_ID"}, yaml: true},
	{key: "Authority.ClientSecret", env: []string{"STELLA_CLIENT_SECRET"}, yaml: true, secret: true,
		fileEnv: "STELLA_CLIENT_SECRET_FILE", fileKey: "Authority.ClientSecretFile"},
	{key: "Authority.Scope", flag: "--scope", env: []string{"STELLA_SCOPE"}, yaml: true},
	{key: "Authority.AddScope", flag: "--add-scope", env: []string{"STELLA_ADD_SCOPE"}, yaml: true},
	{key: "Authority.Audience", env: []string{"STELLA_AUDIENCE"}, yaml: true},
	{key: "Authority.AuthMode", flag: "--auth-mode", env: []string{"STELLA_AUTH_MODE"}, yaml: true},
	{key: "Authority.TokenStorage", flag: "--token-storage", env: []string{"STELLA_TOKEN_STORAGE"}, yaml: true},
	{key: "Authority.TokenCacheDirectory", flag: "--token-cache-dir", env: []string{"STELLA_TOKEN_CACHE_DIR"}, yaml: true, path: true},
	{key: "Authority.KeyCacheTTL", env: []string{"STELLA_KEY_CACHE_TTL"}, yaml: true},
	{key: "Authority.ClientCertificateFile", env: []string{"STELLA_CLIENT_CERT"}, yaml: true, path: true},
	{key: "Authority.ClientKeyFile", env: []string{"STELLA_CLIENT_KEY"}, yaml: true, path: true},
	{key: "Authority.CaBundleFile", env: []string{"STELLA_CA_BUNDLE"}, yaml: true, path: true},
	{key: "Authority.Username", env: []string{"STELLA_USERNAME"}, yaml: true},
	{key: "Authority.TokenCacheUrl", env: []string{"STELLA_TOKEN_CACHE_URL"}, yaml: true, cacheURL: true},
	{key: "TokenCachePassword", env: []string{"STELLA_TOKEN_CACHE_PASSWORD"}, secret: true, fileEnv: "STELLA_TOKEN_CACHE_PASSWORD_FILE"},
	{key: "Password", env: []string{"STELLA_PASSWORD"}, secret: true, fileEnv: "STELLA_PASSWORD_FILE"},
	{key: "CachePassphrase", env: []string{"STELLA_CACHE_PASSPHRASE"}, secret: true, fileEnv: "STELLA_CACHE_PASSPHRASE_FILE"},
	{key: "BackendUrl", flag: "--backend", env: []string{"STELLA_BACKEND_URL"}, yaml: true},
	{key: "Browser", env: []string{"STELLA_BROWSER", "BROWSER"}},
	{key: "RequestTimeout", env: []string{"STELLA_TIMEOUT"}},
	{key: "WaitTimeout", flag: "--timeout"},
}

// resolved is a setting's winning value.
type resolved struct {
	value  string
	source domain.Source
	file   string // for secrets read from a file: the file's path
}

type loader struct {
	in       Input
	warnings []Warning
}

func (l *loader) env(name string) (string, bool) {
	if l.in.LookupEnv == nil {
		return "", false
	}
	v, ok := l.in.LookupEnv(name)
	return v, ok && v != ""
}

func (l *loader) expand(p string) string {
	if p == "~" {
		return l.in.Home
	}
	if strings.HasPrefix(p, "~/") && l.in.Home != "" {
		return filepath.Join(l.in.Home, p[2:])
	}
	return p
}

// flagValue is the value of the flag a setting names, found by its tag
// on Flags rather than by a switch that a new flag would have to join.
func (l *loader) flagValue(s setting) (string, bool) {
	if s.flag == "" {
		return "", false
	}
	v := reflect.ValueOf(l.in.Flags)
	for i := range v.NumField() {
		if v.Type().Field(i).Tag.Get("flag") != s.flag {
			continue
		}
		switch f := v.Field(i).Interface().(type) {
		case string:
			return f, f != ""
		case []string:
			return strings.Join(f, " "), len(f) > 0
		case time.Duration:
			return f.String(), f != 0
		}
	}
	return "", false
}

// Load resolves the settings of one invocation.
func Load(in Input) (domain.Settings, []Warning, error) {
	l := &loader{in: in}
	s, err := l.load()
	return s, l.warnings, err
}

func (l *loader) load() (domain.Settings, error) {
	var s domain.Settings
	var eff []domain.Setting

	// Config dir and profile decide which files are read.
	dirSrc := domain.Source{Kind: domain.SourceDefault}
	dir := filepath.Join(l.in.Home, ".stellaops")
	if f := l.in.Flags.ConfigDir; f != "" {
		dir, dirSrc = f, domain.Source{Kind: domain.SourceFlag, Detail: "--config-dir"}
	} else if v, ok := l.env("STELLA_CONFIG_DIR"); ok {
		dir, dirSrc = v, domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_CONFIG_DIR"}
	}
	s.ConfigDir = l.expand(dir)
	profSrc := domain.Source{Kind: domain.SourceDefault}
	if f := l.in.Flags.Profile; f != "" {
		s.Profile, profSrc = f, domain.Source{Kind: domain.SourceFlag, Detail: "--profile"}
	} else if v, ok := l.env("STELLA_PROFILE"); ok {
		s.Profile, profSrc = v, domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_PROFILE"}
	}
	cfg, err := readLayer(filepath.Join(s.ConfigDir, "config.yaml"), true)
	if err != nil {
		return s, err
	}
	// Third in line: the active profile `stella profile use` recorded.
	if v, ok := cfg.value("ActiveProfile"); ok && v.value != "" {
		switch {
		case s.Profile == "":
			s.Profile, profSrc = v.value, domain.Source{Kind: domain.SourceConfig, Detail: fmt.Sprintf("%s:%d", cfg.path, v.line)}
		case profSrc.Kind == domain.SourceEnv && s.Profile != v.value:
			// A variable left set beats a choice made with `profile use`.
			l.warnings = append(l.warnings, Warning{fmt.Sprintf("STELLA_PROFILE=%s overrides the active profile %s (%s:%d)",
				domain.Printable(s.Profile, 64), domain.Printable(v.value, 64), cfg.path, v.line)})
		}
	}
	s.ProfileSource = profSrc.Kind
	eff = append(eff, domain.Setting{Key: "Profile", Value: s.Profile, Source: profSrc},
		domain.Setting{Key: "ConfigDir", Value: s.ConfigDir, Source: dirSrc})

	var layers []*fileLayer // highest precedence first: profile, config.yaml
	if s.Profile != "" {
		if !validProfileName(s.Profile) {
			name := fmt.Sprintf("%q", domain.Printable(s.Profile, 80))
			if profSrc.Kind == domain.SourceConfig {
				name = profSrc.Detail + ": " + name // ActiveProfile
			}
			return s, domain.E(domain.KindUsage, fmt.Sprintf("profile name %s is not valid", name),
				"Profile names use letters, digits, '.', '_' and '-' only, and name a file in "+filepath.Join(s.ConfigDir, "profiles")+".")
		}
		if err := profileExists(s.ConfigDir, s.Profile); err != nil {
			return s, err
		}
		layer, err := readLayer(filepath.Join(s.ConfigDir, "profiles", s.Profile+".yaml"), false)
		if err != nil {
			return s, err
		}
		if v, ok := layer.value("ActiveProfile"); ok {
			return s, usageErr(layer.path, v.line, "ActiveProfile belongs in config.yaml, not in a profile",
				"Remove it here; `stella profile use NAME` records the active profile.")
		}
		layers = append(layers, layer)
	}
	if cfg != nil {
		layers = append(layers, cfg)
	}
	kinds := []domain.SourceKind{domain.SourceProfile, domain.SourceConfig}
	if s.Profile == "" {
		kinds = kinds[1:]
	}

	values := map[string]resolved{}
	for _, st := range settings {
		r, err := l.resolve(st, layers, kinds)
		if err != nil {
			return s, err
		}
		if len(r.value) > maxValueLen {
			return s, domain.E(domain.KindUsage, fmt.Sprintf("%s from %s is longer than %d characters", st.key, r.source, maxValueLen),
				"Check the value; no stella setting is that long.")
		}
		values[st.key] = r
		shown := r.value
		if st.secret && r.value != "" {
			shown = "[redacted]"
		}
		if st.cacheURL && r.value != "" {
			shown = domain.RedactCacheURL(r.value)
		}
		eff = append(eff, domain.Setting{Key: st.key, Value: shown, Source: r.source})
	}
	if err := l.apply(&s, values); err != nil {
		return s, err
	}
	// profile show prints what is in force, not a dash: "dpop (default)".
	defaults := map[string]string{"Authority.AuthMode": string(s.AuthMode), "Authority.TokenStorage": string(s.TokenStorage),
		"Authority.TokenCacheDirectory": s.TokenCacheDir, "RequestTimeout": s.RequestTimeout.String(), "WaitTimeout": s.WaitTimeout.String(),
		"Authority.Scope": "offline_access openid profile (for a person; none for client credentials)"}
	for i, e := range eff {
		if d := defaults[e.Key]; e.Source.Kind == domain.SourceDefault && e.Value == "" && d != "" {
			eff[i].Value = d
		}
	}
	eff = append(eff, domain.Setting{Key: "NonInteractive", Value: strconv.FormatBool(s.NonInteractive), Source: l.nonInteractiveSource()})
	s.Effective = eff
	s.Verbose, s.JSON = l.in.Flags.Verbose, l.in.Flags.JSON
	return s, nil
}

// resolve finds the winning value of one setting: flag, env, then files.
func (l *loader) resolve(st setting, layers []*fileLayer, kinds []domain.SourceKind) (resolved, error) {
	if v, ok := l.flagValue(st); ok {
		return resolved{value: v, source: domain.Source{Kind: domain.SourceFlag, Detail: st.flag}}, nil
	}
	var envHit []string
	var r resolved
	for _, name := range st.env {
		if v, ok := l.env(name); ok {
			envHit = append(envHit, name)
			if r.value == "" {
				r = resolved{value: v, source: domain.Source{Kind: domain.SourceEnv, Detail: name}}
			}
		}
	}
	if st.fileEnv != "" {
		if p, ok := l.env(st.fileEnv); ok {
			if len(envHit) > 0 {
				return r, domain.E(domain.KindUsage, fmt.Sprintf("both %s and %s are set", envHit[0], st.fileEnv),
					"Set only one of them; the _FILE variant is preferred.")
			}
			v, err := l.readSecretFile(l.expand(p), st.fileEnv)
			if err != nil {
				return r, err
			}
			r = resolved{value: v, source: domain.Source{Kind: domain.SourceEnv, Detail: st.fileEnv}, file: l.expand(p)}
			l.overrides(st, r, layers, kinds)
			return r, nil
		}
	}
	if r.value != "" {
		if st.path {
			r.value = l.expand(r.value)
		}
		l.overrides(st, r, layers, kinds)
		return r, nil
	}
	if !st.yaml {
		return resolved{source: domain.Source{Kind: domain.SourceDefault}}, nil
	}
	for i, layer := range layers {
		v, hasValue := layer.values[st.key]
		fv, hasFile := fileValue{}, false
		if st.fileKey != "" {
			fv, hasFile = layer.values[st.fileKey]
		}
		switch {
		case hasValue && hasFile:
			return r, usageErr(layer.path, fv.line, fmt.Sprintf("both %s and %s are set", leaf(st.key), leaf(st.fileKey)),
				"Keep only "+leaf(st.fileKey)+".")
		case hasFile && fv.value != "":
			p := l.expand(fv.value)
			if err := relativeInYAML(layer.path, fv.line, leaf(st.fileKey), p); err != nil {
				return r, err
			}
			val, err := l.readSecretFile(p, fmt.Sprintf("%s:%d", layer.path, fv.line))
			if err != nil {
				return r, err
			}
			return resolved{value: val, file: p, source: domain.Source{Kind: kinds[i], Detail: fmt.Sprintf("%s:%d", layer.path, fv.line)}}, nil
		case hasValue && v.value != "":
			if st.secret {
				l.warnings = append(l.warnings, Warning{fmt.Sprintf("%s:%d holds %s in plain text; prefer %s (development only)",
					layer.path, v.line, leaf(st.key), leaf(st.fileKey))})
			}
			val := v.value
			if st.path {
				val = l.expand(val)
				if err := relativeInYAML(layer.path, v.line, leaf(st.key), val); err != nil {
					return r, err
				}
			}
			return resolved{value: val, source: domain.Source{Kind: kinds[i], Detail: fmt.Sprintf("%s:%d", layer.path, v.line)}}, nil
		}
	}
	return resolved{source: domain.Source{Kind: domain.SourceDefault}}, nil
}

// overrides says, once, when a variable beats a value of the profile the
// user chose: a leftover STELLA_CLIENT_ID from an earlier setup would
// otherwise silently sign in as another client than the profile names.
func (l *loader) overrides(st setting, r resolved, layers []*fileLayer, kinds []domain.SourceKind) {
	if len(layers) == 0 || kinds[0] != domain.SourceProfile || !st.yaml {
		return
	}
	v, ok := layers[0].values[st.key]
	if !ok && st.fileKey != "" {
		v, ok = layers[0].values[st.fileKey]
	}
	if !ok || v.value == "" {
		return
	}
	name := strings.TrimSuffix(filepath.Base(layers[0].path), ".yaml")
	l.warnings = append(l.warnings, Warning{fmt.Sprintf("%s overrides %s of profile %s (%s:%d)",
		r.source.Detail, leaf(st.key), name, layers[0].path, v.line)})
}

// relativeInYAML refuses a relative path in a configuration file: it would
// mean whatever directory the command happens to run in (a git checkout,
// say), so a session or a secret would land or be read there.
func relativeInYAML(file string, line int, key, p string) error {
	if filepath.IsAbs(p) {
		return nil
	}
	return usageErr(file, line, fmt.Sprintf("%s %q is a relative path", key, domain.Printable(p, 200)),
		"Write an absolute path, or one starting with ~/ (your home directory).")
}

func leaf(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// readSecretFile reads a secret from a file, trimming one trailing newline.
// Errors name the file, never its content.
func (l *loader) readSecretFile(path, from string) (string, error) {
	bad := func(err error, why string) error {
		return domain.Wrap(domain.KindUsage, err, fmt.Sprintf("secret file %s (from %s) %s", path, from, why),
			"Point the setting at a readable file that holds only the secret.")
	}
	b, st, err := readRegular(path, maxSecretFile)
	var nr ports.NotRegularFile
	switch {
	case errors.As(err, &nr):
		return "", domain.E(domain.KindUsage, fmt.Sprintf("secret file %s (from %s) %s", path, from, nr.Error()),
			"Point the setting at a regular file that holds only the secret (not a pipe, device or directory).")
	case errors.Is(err, ports.ErrFileTooLarge):
		return "", bad(nil, "is larger than 64 KiB")
	case err != nil:
		return "", bad(nil, "cannot be read: "+errText(err))
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", bad(nil, "is empty")
	}
	if st.Mode().Perm()&0o077 != 0 {
		l.warnings = append(l.warnings, Warning{fmt.Sprintf("secret file %s is readable by other users (mode %#o); run chmod 600 %s",
			path, st.Mode().Perm(), path)})
	}
	return v, nil
}

// errText keeps the OS's reason without repeating the path.
func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func (l *loader) apply(s *domain.Settings, v map[string]resolved) (err error) {
	// Every configuration error names where the value came from: the file
	// and line, the variable or the flag.
	var at string
	defer func() {
		var de *domain.Error
		if err != nil && at != "" && errors.As(err, &de) {
			err = domain.E(de.Kind, at+": "+de.Message, de.Hint)
		}
	}()
	from := func(key string) string {
		if src := v[key].source; src.Kind != domain.SourceFlag { // a flag was just typed
			return src.Detail // file:line or the variable
		}
		return ""
	}
	s.AuthorityURL = v["Authority.Url"].value
	at = from("Authority.Url")
	if s.AuthorityURL != "" {
		if _, err := domain.ValidateServerURL("Authority URL", s.AuthorityURL); err != nil {
			return err
		}
	}
	s.BackendURL = v["BackendUrl"].value
	at = from("BackendUrl")
	if s.BackendURL != "" {
		if _, err := domain.ValidateServerURL("backend URL", s.BackendURL); err != nil {
			return err
		}
	}
	s.ClientID = v["Authority.ClientId"].value
	s.ClientSecret = domain.NewSecret(v["Authority.ClientSecret"].value)
	s.ClientSecretFile = v["Authority.ClientSecret"].file
	at = from("Authority.Scope")
	if s.Scopes, err = domain.ParseScopes(v["Authority.Scope"].value); err != nil {
		return err
	}
	at = from("Authority.AddScope")
	if s.AddScopes, err = domain.ParseScopes(v["Authority.AddScope"].value); err != nil {
		return err
	}
	s.Audience = v["Authority.Audience"].value
	s.AuthMode = DefaultAuthMode
	at = from("Authority.AuthMode")
	if m := v["Authority.AuthMode"].value; m != "" {
		if s.AuthMode, err = domain.ParseAuthMode(m); err != nil {
			return err
		}
	}
	s.TokenStorage = DefaultTokenStorage
	at = from("Authority.TokenStorage")
	if k := v["Authority.TokenStorage"].value; k != "" {
		if s.TokenStorage, err = domain.ParseStorageKind(k); err != nil {
			return err
		}
	}
	at = ""
	s.TokenCacheDir = v["Authority.TokenCacheDirectory"].value
	if s.TokenCacheDir == "" {
		s.TokenCacheDir = filepath.Join(s.ConfigDir, "tokens")
	}
	s.ClientCertFile = v["Authority.ClientCertificateFile"].value
	s.ClientKeyFile = v["Authority.ClientKeyFile"].value
	s.CABundleFile = v["Authority.CaBundleFile"].value
	s.Username = v["Authority.Username"].value
	s.Password = domain.NewSecret(v["Password"].value)
	s.CachePassphrase = domain.NewSecret(v["CachePassphrase"].value)
	s.Browser = v["Browser"].value
	if err := applyCacheURL(s, v["Authority.TokenCacheUrl"], v["TokenCachePassword"]); err != nil {
		return err
	}

	s.RequestTimeout = DefaultRequestTimeout
	if t := v["RequestTimeout"].value; t != "" {
		d, perr := time.ParseDuration(t)
		if perr != nil {
			if n, nerr := strconv.Atoi(t); nerr == nil {
				d, perr = time.Duration(n)*time.Second, nil
			}
		}
		if perr != nil || d <= 0 || d > time.Hour {
			return domain.E(domain.KindUsage, fmt.Sprintf("STELLA_TIMEOUT=%q is not a duration between 1ms and 1h", domain.Printable(t, 40)),
				"Use a value such as 30s or 2m.")
		}
		s.RequestTimeout = d
	}
	if s.KeyCacheTTL, err = keyCacheTTL(v["Authority.KeyCacheTTL"]); err != nil {
		return err
	}
	s.WaitTimeout = DefaultWaitTimeout
	if t := l.in.Flags.Timeout; t != 0 {
		if t < 0 {
			return domain.E(domain.KindUsage, "--timeout must be positive", "Use a value such as 5m.")
		}
		s.WaitTimeout = t
		// Nothing may hang beyond --timeout, not even one request.
		s.RequestTimeout = min(s.RequestTimeout, t)
	}
	s.NonInteractive = l.in.Flags.NonInteractive || l.envTrue("STELLA_NON_INTERACTIVE") || l.envTrue("CI")
	return nil
}

// keyCacheTTL parses KeyCacheTTL: a Go duration ("15m", "90s") or a
// whole number of seconds, 0 turning the cache off. The kernel counts
// timeouts in whole seconds, so a fraction is rounded up.
func keyCacheTTL(r resolved) (time.Duration, error) {
	if r.value == "" {
		return DefaultKeyCacheTTL, nil
	}
	d, err := time.ParseDuration(r.value)
	if err != nil {
		if n, nerr := strconv.Atoi(r.value); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 || d > maxKeyCacheTTL {
		return 0, domain.E(domain.KindUsage,
			fmt.Sprintf("KeyCacheTTL %q (from %s) is not a duration between 0 and 24h", domain.Printable(r.value, 40), r.source),
			"Use a value such as 15m, or 0 to keep no key in the kernel keyring.")
	}
	if rem := d % time.Second; rem != 0 {
		d += time.Second - rem
	}
	return d, nil
}

func (l *loader) envTrue(name string) bool {
	v, ok := l.env(name)
	if !ok {
		return false
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func (l *loader) nonInteractiveSource() domain.Source {
	switch {
	case l.in.Flags.NonInteractive:
		return domain.Source{Kind: domain.SourceFlag, Detail: "--non-interactive"}
	case l.envTrue("STELLA_NON_INTERACTIVE"):
		return domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_NON_INTERACTIVE"}
	case l.envTrue("CI"):
		return domain.Source{Kind: domain.SourceEnv, Detail: "CI"}
	}
	return domain.Source{Kind: domain.SourceDefault}
}

// profileExists checks that <configDir>/profiles/<name>.yaml exists; a
// <name>.yml beside it is named in the hint, since stella reads .yaml only.
func profileExists(configDir, name string) error {
	dir := filepath.Join(configDir, "profiles")
	path := filepath.Join(dir, name+".yaml")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		return nil
	}
	msg := fmt.Sprintf("profile %q does not exist (no %s)", name, path)
	yml := filepath.Join(dir, name+".yml")
	if _, err := os.Stat(yml); err == nil {
		return domain.E(domain.KindUsage, msg, fmt.Sprintf("%s exists, but stella reads only .yaml: mv %s %s",
			yml, domain.ShellQuote(yml), domain.ShellQuote(path)))
	}
	return domain.E(domain.KindUsage, msg, availableHint(configDir))
}

func availableHint(configDir string) string {
	ps, err := ListProfiles(configDir)
	if err != nil || len(ps) == 0 {
		return "Create " + filepath.Join(configDir, "profiles", "<name>.yaml") + ", or run without --profile / STELLA_PROFILE."
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
		if p.Broken != nil {
			names[i] += " (broken: see `stella profile list`)"
		}
	}
	return "Available profiles: " + strings.Join(names, ", ") + "."
}

// ProfileSummary is one profile for `stella profile list`.
type ProfileSummary struct {
	Name, Path, AuthorityURL, ClientID, BackendURL string
	// Broken is why the profile cannot be used (with file:line), or nil.
	Broken error
}

// ListProfiles reads every profile in <configDir>/profiles, sorted by name.
// A broken profile is listed as broken with its error: one bad file never
// hides the others, and a list that silently skipped it would hide the
// problem.
func ListProfiles(configDir string) ([]ProfileSummary, error) {
	dir := filepath.Join(configDir, "profiles")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, domain.Wrap(domain.KindUsage, err, "cannot read "+dir, "Check the directory's permissions.")
	}
	var out []ProfileSummary
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if name, ok := strings.CutSuffix(e.Name(), ".yml"); ok && !e.IsDir() && validProfileName(name) {
			out = append(out, ProfileSummary{Name: name, Path: path, Broken: domain.E(domain.KindUsage,
				path+": stella reads only .yaml files", "Rename it: mv "+domain.ShellQuote(path)+" "+domain.ShellQuote(filepath.Join(dir, name+".yaml")))})
			continue
		}
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok || e.IsDir() || !validProfileName(name) {
			continue
		}
		layer, err := readLayer(path, false)
		if err == nil {
			err = checkValues(layer)
		}
		if err != nil {
			out = append(out, ProfileSummary{Name: name, Path: path, Broken: err})
			continue
		}
		out = append(out, ProfileSummary{Name: name, Path: path, AuthorityURL: layer.values["Authority.Url"].value,
			ClientID: layer.values["Authority.ClientId"].value, BackendURL: layer.values["BackendUrl"].value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// checkValues validates the enumerations and URLs a profile sets, naming
// the file and line, so `profile list` finds what `--profile` would refuse.
func checkValues(layer *fileLayer) error {
	checks := map[string]func(string) error{
		"Authority.AuthMode":      func(v string) error { _, err := domain.ParseAuthMode(v); return err },
		"Authority.TokenStorage":  func(v string) error { _, err := domain.ParseStorageKind(v); return err },
		"Authority.Scope":         func(v string) error { _, err := domain.ParseScopes(v); return err },
		"Authority.AddScope":      func(v string) error { _, err := domain.ParseScopes(v); return err },
		"Authority.Url":           func(v string) error { _, err := domain.ValidateServerURL("Authority URL", v); return err },
		"BackendUrl":              func(v string) error { _, err := domain.ValidateServerURL("backend URL", v); return err },
		"Authority.TokenCacheUrl": func(v string) error { _, _, err := domain.ParseCacheURL(v); return err },
	}
	keys := make([]string, 0, len(checks))
	for k := range checks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return layer.values[keys[i]].line < layer.values[keys[j]].line })
	for _, k := range keys {
		v, ok := layer.values[k]
		if !ok || v.value == "" {
			continue
		}
		if err := checks[k](v.value); err != nil {
			var de *domain.Error
			if errors.As(err, &de) {
				return usageErr(layer.path, v.line, de.Message, de.Hint)
			}
			return err
		}
	}
	if v, ok := layer.values["ActiveProfile"]; ok {
		return usageErr(layer.path, v.line, "ActiveProfile belongs in config.yaml, not in a profile",
			"Remove it here; `stella profile use NAME` records the active profile.")
	}
	return nil
}

// Fallback is what can be known of the settings when the configuration
// does not resolve: where the configuration and the token cache are, and
// the defaults. `auth doctor` runs its other checks with it.
func Fallback(in Input) domain.Settings {
	l := &loader{in: in}
	dir := filepath.Join(in.Home, ".stellaops")
	if f := in.Flags.ConfigDir; f != "" {
		dir = f
	} else if v, ok := l.env("STELLA_CONFIG_DIR"); ok {
		dir = v
	}
	s := domain.Settings{ConfigDir: l.expand(dir), AuthMode: DefaultAuthMode, TokenStorage: DefaultTokenStorage,
		RequestTimeout: DefaultRequestTimeout, WaitTimeout: DefaultWaitTimeout, Verbose: in.Flags.Verbose, JSON: in.Flags.JSON}
	s.TokenCacheDir = filepath.Join(s.ConfigDir, "tokens")
	if f := in.Flags.TokenCacheDir; f != "" {
		s.TokenCacheDir = l.expand(f)
	} else if v, ok := l.env("STELLA_TOKEN_CACHE_DIR"); ok {
		s.TokenCacheDir = l.expand(v)
	}
	s.NonInteractive = in.Flags.NonInteractive || l.envTrue("STELLA_NON_INTERACTIVE") || l.envTrue("CI")
	return s
}

// applyCacheURL takes the shared cache's password out of its URL, or from
// STELLA_TOKEN_CACHE_PASSWORD(_FILE), so the URL kept in the settings never
// holds one. TokenStorage: redis needs a URL; a URL without it is ignored.
func applyCacheURL(s *domain.Settings, u, pw resolved) error {
	if u.value == "" {
		if s.TokenStorage == domain.StorageRedis {
			return domain.E(domain.KindUsage, "TokenStorage: redis needs the shared cache's address",
				"Set STELLA_TOKEN_CACHE_URL (or TokenCacheUrl) to a URL such as rediss://cache.ci.example.com:6379/0.")
		}
		return nil
	}
	c, inURL, err := domain.ParseCacheURL(u.value)
	if err != nil {
		return err
	}
	s.TokenCacheURL = c.String()
	s.TokenCachePassword = inURL
	if pw.value != "" {
		if !inURL.IsZero() {
			return domain.E(domain.KindUsage, "the shared cache's password is set twice: in TokenCacheUrl and in "+pw.source.Detail,
				"Keep it only in STELLA_TOKEN_CACHE_PASSWORD_FILE, and take it out of the URL.")
		}
		s.TokenCachePassword = domain.NewSecret(pw.value)
	}
	return nil
}
