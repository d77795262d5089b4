package cli

import "time"

// Globals are the flags every command takes (SPEC §3). Values left empty
// fall through to the environment, the profile, config.yaml and defaults;
// the config adapter resolves them and records where each came from.
type Globals struct {
	Profile        string        `help:"Profile to use (<config dir>/profiles/NAME.yaml)." placeholder:"NAME"`
	Authority      string        `help:"Authority issuer URL." placeholder:"URL"`
	ClientID       string        `name:"client-id" help:"OAuth client id." placeholder:"ID"`
	Scope          string        `help:"Space-separated scopes to ask for." placeholder:"SCOPES"`
	AddScope       []string      `name:"add-scope" sep:"none" help:"Scope to ask for on top of Scope or the default set (repeatable)." placeholder:"SCOPE"`
	Backend        string        `help:"Backend base URL for api calls." placeholder:"URL"`
	AuthMode       string        `name:"auth-mode" help:"Token binding: bearer, dpop or mtls." placeholder:"MODE"`
	TokenStorage   string        `name:"token-storage" help:"Where sessions live: auto, keychain, file, memory or redis (a CI fleet's shared cache, STELLA_TOKEN_CACHE_URL)." placeholder:"KIND"`
	TokenCacheDir  string        `name:"token-cache-dir" help:"Directory of the encrypted token cache." placeholder:"DIR"`
	ConfigDir      string        `name:"config-dir" help:"Configuration directory (default ~/.stellaops)." placeholder:"DIR"`
	Verbose        int           `short:"v" type:"counter" help:"Log what happens on stderr (repeatable); secrets are always redacted."`
	JSON           bool          `name:"json" help:"Print one JSON document on stdout."`
	NonInteractive bool          `name:"non-interactive" help:"Never prompt; fail with a clear message instead."`
	Timeout        time.Duration `help:"How long to wait for a sign-in to be completed (default 5m); also caps each request." placeholder:"DURATION"`
}

// CLI is the whole command tree.
type CLI struct {
	Globals

	Auth       AuthCmd       `cmd:"" help:"Sign in, sign out, and inspect or use the session."`
	API        APICmd        `cmd:"" name:"api" help:"Call a StellaOps backend with the session's credentials."`
	Pack       PackCmd       `cmd:"" help:"Work with Task Packs: approve a gate."`
	Profile    ProfileCmd    `cmd:"" help:"List profiles and show effective settings."`
	Version    VersionCmd    `cmd:"" help:"Print stella's version."`
	Completion CompletionCmd `cmd:"" help:"Print a shell completion script (bash, zsh, fish)."`
}

// AuthCmd groups the authentication commands.
type AuthCmd struct {
	Login  LoginCmd  `cmd:"" help:"Sign in to the Authority."`
	Logout LogoutCmd `cmd:"" help:"Revoke the session's tokens and delete it."`
	Status StatusCmd `cmd:"" help:"Show the stored session (no network)."`
	Whoami WhoamiCmd `cmd:"" help:"Show who the session belongs to and its claims."`
	Doctor DoctorCmd `cmd:"" help:"Check configuration, Authority, clock, keychain and stored sessions."`
	Token  TokenCmd  `cmd:"" help:"Print a valid access token."`
	Header HeaderCmd `cmd:"" help:"Print ready-to-use request headers for another tool."`
}

// ProfileCmd groups the profile commands.
type ProfileCmd struct {
	List ProfileListCmd `cmd:"" help:"List the profiles in the configuration directory."`
	Show ProfileShowCmd `cmd:"" help:"Show every effective setting and where it came from."`
	Use  ProfileUseCmd  `cmd:"" help:"Make a profile the active one (recorded in config.yaml)."`
}
