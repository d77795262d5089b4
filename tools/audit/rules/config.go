// Package rules is stella's architecture checker: a type-aware go/analysis
// analyzer that keeps the hexagon's layers apart and the raw credentials
// inside the authentication adapter (ARCHITECTURE.md "Dependency rules",
// SPEC §6). It is configured by a Go value, not by text patterns, so a rule
// changes where it is reviewed.
//
// Package patterns in the configuration are relative to the module
// ("adapters/auth"). A "*" element matches one path element and a trailing
// "/..." matches the package and everything below it, so "adapters/*/..."
// is every adapter with its sub-packages.
package rules

// Config is what the analyzer enforces.
type Config struct {
	// Module is the module path every pattern is relative to.
	Module string

	// Layers are checked in order; a package belongs to the first layer
	// whose Packages pattern matches it, and may import only what that
	// layer allows.
	Layers []Layer
	// Root is the composition root: it may import anything.
	Root []string
	// Adapters matches every adapter. Outside the layers and the root, no
	// non-test file may import one.
	Adapters string
	// LayerExempt packages are test infrastructure, outside the layer and
	// composition-root rules unless a Layer names them.
	LayerExempt []string

	RawCredential RawCredential
	Reveal        Reveal
	HTTP          HTTP
	Exit          Exit
	Terminal      Terminal
	Untrusted     Untrusted
	Helper        Helper
}

// Helper keeps libraries that are costly to link out of stella: gojq's
// package initialisation runs on every start of a program that links it,
// so it lives in the stella-jq helper, which stella starts only for --jq.
type Helper struct {
	// Libraries may be imported only by Owner packages (and _test.go files).
	Libraries []string
	Owner     []string
}

// Untrusted keeps text from outside (a server's claims, codes, URIs,
// metadata, error descriptions) in its type until it is printed, so the
// only ways out are the sanitising ones its package gives (String, the fmt
// verbs, Cut): ARCHITECTURE.md "Text from outside reaches a terminal, log,
// hint or page only through one sanitiser". JSON encoding reads the value
// by reflection and escapes it, so it needs no door.
type Untrusted struct {
	// Type is the untrusted text type. Outside Allowed packages it may not
	// be converted to any other type (string, []byte, []rune, another
	// named string), indexed or ranged over (its raw bytes and runes), or
	// given as the type argument of a type parameter a string satisfies
	// (whose body may convert it). Converting text to it is always fine.
	Type Func
	// Raw are the methods that return the unsanitised text.
	Raw []Func
	// Allowed packages may do all of that; Exempt ones (test
	// infrastructure) and _test.go files are not checked.
	Allowed []string
	Exempt  []string
}

// Terminal confines writing to the process's standard streams: text from
// outside (servers, files) reaches a terminal only through the writers
// that sanitise it (SPEC §6) — term's console, log handler and
// SafeWriter, which the composition root's Out and Err wrap.
type Terminal struct {
	// Uses are the standard streams and the functions that write to them
	// implicitly (fmt.Println, log.Printf, the println builtin).
	Uses []Func
	// Allowed packages may refer to them; Exempt ones (test
	// infrastructure) and _test.go files are not checked.
	Allowed []string
	Exempt  []string
}

// Reveal confines the functions that expose a secret's value.
type Reveal struct {
	// Funcs are the doors to a secret's value ("Secret.Reveal").
	Funcs []Func
	// Allowed packages may call them, and so may every _test.go file.
	Allowed []string
}

// HTTP confines who builds HTTP clients: one authenticated transport, so
// every request gets the timeouts, size limits, proxy and CA settings.
type HTTP struct {
	// Allowed packages may construct and use everything below.
	Allowed []string
	// Exempt packages (test infrastructure) and _test.go files are not
	// checked.
	Exempt []string
	// Types may be constructed only by Allowed packages: by a composite
	// literal, new, or a variable or field of the type itself.
	Types []Func
	// Uses may be referred to only by Allowed packages: the shared default
	// client and its helpers, and Transport.Clone.
	Uses []Func
}

// Exit confines ending the process: the exit code is decided in one place.
type Exit struct {
	// Funcs end the process; an empty Path names a builtin ("panic").
	Funcs []Func
	// AllowedFiles ("cmd/stella/main.go") may call them.
	AllowedFiles []string
	// ExemptMains are trees whose main packages (tools) may call them.
	// _test.go files are always exempt.
	ExemptMains []string
}

// Layer is one ring of the hexagon and what it may depend on. The standard
// library and the layer's own unit (the package and the sub-packages of the
// same match: adapters/auth/internal/x is adapters/auth) are always allowed.
type Layer struct {
	// Name makes the rule id: "layer-" + Name.
	Name string
	// Packages is the pattern of the layer's packages ("adapters/*/...").
	Packages string
	// Imports are the module patterns the layer may import.
	Imports []string
	// ThirdParty allows importing packages outside the module and the
	// standard library.
	ThirdParty bool
	// FileImports allows an import path only in the file of that base name
	// ("module.go" → "go.uber.org/fx").
	FileImports map[string][]string
	// TestImports are the extra module patterns _test.go files may import;
	// TestThirdParty lets _test.go files import third-party libraries.
	TestImports    []string
	TestThirdParty bool
	// Rule says what the layer may import; Hint what to do instead.
	Rule, Hint string
}

// RawCredential confines the OAuth library's raw credential API, the
// keyring, and plain-text secret fields.
type RawCredential struct {
	// Owner packages may touch the raw types; everyone else sees
	// domain.Session, domain.Token and domain.Secret.
	Owner []string
	// Exempt packages (a test Authority must handle raw credentials)
	// are not checked. _test.go files are never checked.
	Exempt []string
	// Types are the raw credential types, in any position: variable, field,
	// parameter, result, alias, embedding, literal, conversion.
	Types []Func
	// Funcs are the raw grants ("Config.PasswordCredentialsToken").
	Funcs []Func

	// Keyring lists the libraries that reach the keychain (the keyring
	// library and the D-Bus one under it), importable only by KeyringOwner.
	Keyring      []string
	KeyringOwner []string

	// Fleet lists the shared-cache client library (go-redis), importable
	// only by FleetOwner: it holds the cache's password and sees sealed
	// sessions, and a second user would be a second way to store tokens.
	Fleet      []string
	FleetOwner []string

	// FieldSuffixes name fields that hold a credential: a string or []byte
	// field of an exported struct whose name (case-insensitive) equals or
	// ends with one of them is reported. FieldNames match the whole name
	// only ("Code" names a credential; "ErrorCode" does not).
	FieldSuffixes []string
	FieldNames    []string
	// FieldAllowed are names that merely look like credentials: a field
	// name ("TokenType") or a qualified "pkg.Type.Field"
	// ("domain.OAuthError.Code").
	FieldAllowed []string
}

// Func names a package-level object — a function, type or variable
// ("EncodeSession", "Token", "DefaultClient") — or a method
// ("Secret.Reveal") in the package at Path, a full import path. An empty
// Path names a builtin ("panic").
type Func struct {
	Path, Name string
}

// Default is stella's configuration.
func Default() Config {
	const m = "github.com/stellaops/stella"
	return Config{
		Module: m,
		Layers: []Layer{
			{
				Name: "domain", Packages: "domain/...", TestThirdParty: true,
				Rule: "domain must import only the standard library",
				Hint: "move the I/O to an adapter behind a port",
			},
			{
				Name: "ports", Packages: "ports/...", Imports: []string{"domain/..."}, TestThirdParty: true,
				Rule: "ports may import only domain and the standard library",
				Hint: "describe the interface in domain types",
			},
			{
				// "ports", not "ports/...": ports/storetest is for tests only.
				Name: "app", Packages: "app/...", Imports: []string{"domain/...", "ports"}, TestThirdParty: true,
				TestImports: []string{"ports/storetest/..."},
				FileImports: map[string][]string{"module.go": {"go.uber.org/fx"}},
				Rule:        "app may import only domain, ports, the standard library, and go.uber.org/fx in module.go",
				Hint:        "depend on a port and let cmd/stella inject the adapter",
			},
			{
				Name: "adapter", Packages: "adapters/*/...", Imports: []string{"domain/...", "ports"}, ThirdParty: true,
				TestImports: []string{"ports/storetest/..."}, TestThirdParty: true,
				Rule: "an adapter may import only domain, ports, the standard library and third-party libraries, never app or another adapter",
				Hint: "share through a port or a domain type and let cmd/stella wire the adapters",
			},
			{
				Name: "devauthority", Packages: "tools/devauthority/...", ThirdParty: true, TestThirdParty: true,
				Rule: "tools/devauthority must import nothing of the client (domain, ports, app, adapters)",
				Hint: "verify with its own code on go-jose and the standard library, so it cannot agree with the client's bugs",
			},
		},
		Root:        []string{"cmd/stella/...", "internal/cli/..."},
		Adapters:    "adapters/*/...",
		LayerExempt: []string{"tools/...", "testscripts/..."},

		RawCredential: RawCredential{
			Owner: []string{"adapters/auth/..."},
			// kongfx -tags libraries (make bench) links the keychain and fleet
			// libraries to measure what linking them costs, and never calls them.
			Exempt: []string{"tools/devauthority/...", "tools/procbench/kongfx"},
			Types:  []Func{{"golang.org/x/oauth2", "Token"}},
			Funcs:  []Func{{"golang.org/x/oauth2", "Config.PasswordCredentialsToken"}},

			Keyring:      []string{"github.com/zalando/go-keyring", "github.com/godbus/dbus"},
			KeyringOwner: []string{"adapters/keychain/..."},
			Fleet:        []string{"github.com/redis/go-redis"},
			FleetOwner:   []string{"adapters/fleetcache/..."},

			FieldSuffixes: []string{
				"Password", "Passwd", "Secret", "Token", // ClientSecret, AccessToken, RefreshToken, IDToken, IdToken
				"Passphrase", "PrivateKey", "Verifier", "AuthCode", "AuthorizationCode", "DeviceCode",
			},
			FieldNames: []string{"Code"},
			FieldAllowed: []string{
				"TokenType", "TokenCacheDirectory", "ClientSecretFile", // names that merely start like a credential
				"domain.OAuthError.Code", // the OAuth error code ("invalid_grant"), not an authorization code
			},
		},

		Reveal: Reveal{
			Funcs: []Func{{m + "/domain", "Secret.Reveal"}, {m + "/domain", "EncodeSession"}},
			Allowed: []string{
				"domain/...", // Secret's own package
				"adapters/auth/...", "adapters/transport/...", "adapters/dpop/...", "adapters/filestore/...", "adapters/keychain/...",
				"adapters/fleetcache/...", // derives the entry key from the client secret and seals sessions
				"internal/cli/...",        // `stella auth token` prints the token by design
				// The contract suite is test code that lives outside _test.go files
				// only so that every store's and fake's tests can import it
				// (layer-adapter and layer-app keep it out of non-test code); it
				// compares what round-trips.
				"ports/storetest/...",
			},
		},

		HTTP: HTTP{
			Allowed: []string{"adapters/transport/...", "adapters/auth/..."},
			Exempt:  []string{"tools/...", "testscripts/..."},
			Types:   []Func{{"net/http", "Client"}, {"net/http", "Transport"}},
			Uses: []Func{
				{"net/http", "DefaultClient"}, {"net/http", "DefaultTransport"}, {"net/http", "Transport.Clone"},
				{"net/http", "Get"}, {"net/http", "Post"}, {"net/http", "PostForm"}, {"net/http", "Head"},
			},
		},

		Exit: Exit{
			Funcs: []Func{
				{"", "panic"}, {"os", "Exit"},
				{"log", "Fatal"}, {"log", "Fatalf"}, {"log", "Fatalln"}, {"log", "Panic"}, {"log", "Panicf"}, {"log", "Panicln"},
				{"log", "Logger.Fatal"}, {"log", "Logger.Fatalf"}, {"log", "Logger.Fatalln"},
				{"log", "Logger.Panic"}, {"log", "Logger.Panicf"}, {"log", "Logger.Panicln"},
			},
			// The jq helper decides its own exit status, which stella maps.
			AllowedFiles: []string{"cmd/stella/main.go", "cmd/stella-jq/main.go"},
			ExemptMains:  []string{"tools/..."},
		},

		Terminal: Terminal{
			Uses: []Func{
				{"os", "Stdout"}, {"os", "Stderr"},
				{"fmt", "Print"}, {"fmt", "Printf"}, {"fmt", "Println"},
				{"log", "Print"}, {"log", "Printf"}, {"log", "Println"}, {"log", "Default"},
				{"", "print"}, {"", "println"},
			},
			// The jq helper's stdout and stderr are a pipe to stella, which
			// sanitises what it shows (adapters/jq writes through its Out).
			Allowed: []string{"adapters/term/...", "cmd/stella-jq/..."},
			Exempt:  []string{"tools/...", "testscripts/..."},
		},

		Untrusted: Untrusted{
			Type: Func{m + "/domain", "Untrusted"},
			Raw:  []Func{{m + "/domain", "Untrusted.Raw"}},
			// domain owns the type and its sanitiser. The adapters that
			// receive servers' text keep it as plain strings only until
			// they hand it out, and send or validate those strings before.
			Allowed: []string{"domain/..."},
			Exempt:  []string{"tools/...", "testscripts/..."},
		},

		Helper: Helper{
			Libraries: []string{"github.com/itchyny/gojq"},
			Owner:     []string{"internal/jqrun/..."},
		},
	}
}
