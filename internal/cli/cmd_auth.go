package cli

import (
	"fmt"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// LoginCmd is `stella auth login`.
type LoginCmd struct {
	Browser           bool `help:"Sign in in the browser (Authorization Code + PKCE)." xor:"flow"`
	Headless          bool `aliases:"device" help:"Sign in with a device code, for SSH sessions and containers; never opens a browser." xor:"flow"`
	ClientCredentials bool `name:"client-credentials" help:"Sign in as the client itself (CI); implied when a client secret is configured." xor:"flow"`
	Password          bool `help:"Deprecated resource-owner password grant, for Authorities that still require it; reads STELLA_USERNAME and STELLA_PASSWORD(_FILE) only, never prompts." xor:"flow"`
	Force             bool `help:"Sign in again even when the session is valid; the old refresh token is revoked afterwards."`
	NoBrowser         bool `name:"no-browser" help:"Print the sign-in URL instead of opening a browser."`
	CallbackPort      int  `name:"callback-port" help:"Fixed loopback port for Authorities that demand an exact redirect URI." placeholder:"N"`
}

// Help is shown by `stella auth login --help`.
func (LoginCmd) Help() string {
	return `Signs in and stores the session. Without a flow flag, a configured client
secret means client credentials; otherwise a person signs in in the browser,
or with a device code where no browser can be opened.

The browser sign-in listens on 127.0.0.1 and prints a local URL that leads
to the Authority's sign-in page; the device sign-in prints a URL and a code
to enter on any other device. stella never asks for a password itself.

Examples:
  stella auth login                                   # interactive sign-in
  stella auth login --headless                        # over SSH: a URL and a code to enter elsewhere
  stella --add-scope packs.run auth login --headless  # the default scopes plus packs.run
  stella auth login --browser --no-browser --callback-port 8765   # then: ssh -L 8765:127.0.0.1:8765 host
  STELLA_CLIENT_SECRET_FILE=ci.secret stella auth login --client-credentials`
}

// Run signs in.
func (c *LoginCmd) Run(rt *Runtime) error {
	var uc *app.Login
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	flow := app.FlowAuto
	switch {
	case c.Browser:
		flow = app.FlowBrowser
	case c.Headless:
		flow = app.FlowDevice
	case c.ClientCredentials:
		flow = app.FlowClientCredentials
	case c.Password:
		flow = app.FlowPassword
	}
	if c.CallbackPort < 0 || c.CallbackPort > 65535 {
		return domain.E(domain.KindUsage, fmt.Sprintf("--callback-port %d is not a port", c.CallbackPort), "Use a number from 1 to 65535.")
	}
	res, err := uc.Do(rt.ctx, app.LoginInput{Flow: flow, Force: c.Force, NoBrowser: c.NoBrowser, CallbackPort: c.CallbackPort})
	warn(rt, res.Warnings)
	if err != nil {
		return err
	}
	return printLogin(rt, res)
}

// LogoutCmd is `stella auth logout`.
type LogoutCmd struct {
	Force bool `help:"Delete the local session only; do not contact the Authority, keep nothing to revoke later."`
	All   bool `help:"Sign out of every stored session, each revoked at the Authority and as the client it records."`
}

// Help is shown by `stella auth logout --help`.
func (LogoutCmd) Help() string {
	return `Revokes the refresh token, then the access token, at the Authority's
revocation endpoint (RFC 7009), then deletes the local session. A revocation
failure never blocks the deletion and never abandons a live token: what could
not be revoked is kept encrypted as a pending revocation, which later commands
that reach that Authority retry (auth status --all lists them). With --all,
every stored session is revoked at the Authority and as the client that
session records, profile file or not. --force keeps nothing. With
TokenStorage: redis the client's shared entry is removed for every runner
of the fleet (asked first on a terminal).

Examples:
  stella auth logout
  stella auth logout --all --force      # forget every session without network`
}

// Run signs out.
func (c *LogoutCmd) Run(rt *Runtime) error {
	var uc *app.Logout
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	if ok, err := confirmFleetLogout(rt); !ok || err != nil {
		return err
	}
	res, err := uc.Do(rt.ctx, app.LogoutInput{Force: c.Force, All: c.All})
	for _, r := range res.Results {
		warn(rt, r.Warnings)
	}
	if err != nil {
		return err
	}
	return printLogout(rt, res)
}

// StatusCmd is `stella auth status`.
type StatusCmd struct {
	All bool `help:"Show every stored session."`
}

// Help is shown by `stella auth status --help`.
func (StatusCmd) Help() string {
	return `Shows the stored session without using the network: who, which Authority
and client, scopes, token type, expiry in words, refresh token, storage and
sender constraint, and whether the key that opened it came from the kernel
key cache (KeyCacheTTL), until when. Exits 0 when a usable session exists,
12 when none. With TokenStorage: redis it also asks the shared cache
(bounded): where it is, whether it answers, this client's entry and who
holds its lock.

Examples:
  stella auth status
  stella auth status --json | jq .sessions[0].expiresAt`
}

// Run reports.
func (c *StatusCmd) Run(rt *Runtime) error {
	var uc *app.Status
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	s, _ := rt.Settings()
	res, err := uc.Do(rt.ctx, app.StatusInput{All: c.All})
	if perr := printStatus(rt, s, res); perr != nil {
		return perr
	}
	return err
}

// WhoamiCmd is `stella auth whoami`.
type WhoamiCmd struct{}

// Help is shown by `stella auth whoami --help`.
func (WhoamiCmd) Help() string {
	return `Shows the identity and the token's claims: subject, client, scopes, audience,
issue and expiry times, cnf binding and tenant. Asks the Authority's userinfo
endpoint when it can be reached, and otherwise says it shows cached claims.

Example:
  stella auth whoami --json`
}

// Run answers.
func (c *WhoamiCmd) Run(rt *Runtime) error {
	var uc *app.Whoami
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	res, err := uc.Do(rt.ctx)
	if err != nil {
		return err
	}
	return printWhoami(rt, res)
}

// TokenCmd is `stella auth token`.
type TokenCmd struct {
	MinTTL time.Duration `name:"min-ttl" default:"60s" help:"Refresh first if the token expires within this time."`
}

// Help is shown by `stella auth token --help`.
func (TokenCmd) Help() string {
	return `Prints only a valid access token on stdout, refreshing it first when it
expires within --min-ttl; with --json, the token with its type, expiry and
scopes. For use in scripts; prefer ` + "`stella api`" + ` or ` + "`stella auth header`" + `,
which also handle sender-constrained tokens: by default (AuthMode dpop)
the token is DPoP-bound and useless without a proof, so a plain
"Authorization: Bearer" header works only with AuthMode bearer.

Examples:
  stella auth token --json | jq -r .expiresAt
  stella auth token --min-ttl 5m        # a token still valid in 5 minutes
  curl -fsS -H @<(stella auth header --method GET --url https://task-runner.example.com/api/v1/me) https://task-runner.example.com/api/v1/me`
}

// Run prints the token.
func (c *TokenCmd) Run(rt *Runtime) error {
	if c.MinTTL < 0 {
		return domain.E(domain.KindUsage, "--min-ttl must not be negative", "Use a duration such as 60s or 5m.")
	}
	tm, _, err := rt.tokenTools()
	if err != nil {
		return err
	}
	cred, err := tm.CredentialFor(rt.ctx, c.MinTTL)
	if err != nil {
		return err
	}
	return printToken(rt, cred)
}

// HeaderCmd is `stella auth header`.
type HeaderCmd struct {
	Method string `default:"GET" help:"HTTP method of the request the headers are for (default GET, as curl)." placeholder:"METHOD"`
	URL    string `name:"url" required:"" help:"Full URL of the request the headers are for." placeholder:"URL"`
}

// Help is shown by `stella auth header --help`.
func (HeaderCmd) Help() string {
	return `Prints the request headers another tool needs to call a backend with the
session's token, one per line: Authorization (and, for DPoP-bound tokens, a
DPoP proof made for exactly this method and URL).

Example:
  curl -fsS -H @<(stella auth header --method GET --url https://task-runner.example.com/api/v1/jobs) \
       https://task-runner.example.com/api/v1/jobs`
}

// Run prints the headers.
func (c *HeaderCmd) Run(rt *Runtime) error {
	tm, creds, err := rt.tokenTools()
	if err != nil {
		return err
	}
	res, err := app.NewHeader(tm, creds).Do(rt.ctx, app.HeaderInput{Method: c.Method, URL: c.URL})
	if err != nil {
		return err
	}
	headers := make([]headerEntry, len(res.Headers))
	for i, h := range res.Headers {
		// Printing them is the command's job, as `auth token` prints the token.
		headers[i] = headerEntry{h.Name, h.Value.Reveal()}
	}
	if rt.globals.JSON {
		return rt.emit(headerDoc{SchemaVersion: schemaVersion, Headers: headers})
	}
	for _, h := range headers {
		if _, err := fmt.Fprintf(rt.Out(), "%s: %s\n", h.Name, h.Value); err != nil {
			return err
		}
	}
	return nil
}

// headerDoc is `stella auth header --json`: the same headers, for tools
// that build requests from JSON.
type headerDoc struct {
	SchemaVersion int           `json:"schemaVersion"`
	Headers       []headerEntry `json:"headers"`
}

type headerEntry struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
