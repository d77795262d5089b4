package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/docs/schema"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files")

// The --json documents are a machine contract (docs/json.md): these golden
// files pin their field names and shapes, so a change is a visible diff.
func TestJSONDocumentsGolden(t *testing.T) {
	expiry := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	key := domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}
	store := ports.StoreInfo{Kind: domain.StorageFile, Label: "encrypted file", Location: "/home/op/.stellaops/tokens", Reason: "TokenStorage: file"}
	st := app.SessionStatus{Key: key, Identity: domain.Identity{Subject: "operator", Name: "Olivia Operator", Tenant: "acme"},
		Grant: domain.GrantAuthorizationCode, Scopes: domain.Scopes{"openid", "packs.read"}, TokenType: "DPoP", Expiry: expiry,
		ExpiryWords: "expires in 59 min", HasRefresh: true, Usable: true,
		Constraint: domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}
	cases := map[string]func(rt *Runtime) error{
		"version": func(rt *Runtime) error {
			rt.build = domain.BuildInfo{Version: "1.2.3", Commit: "abc1234", GOOS: "linux", GOARCH: "amd64"}
			return (&VersionCmd{}).Run(rt)
		},
		"status": func(rt *Runtime) error {
			cached := st
			cached.KeyCache = ports.KeyCacheStatus{State: ports.KeyCacheUsed, Until: expiry.Add(-45 * time.Minute)}
			return printStatus(rt, domain.Settings{}, app.StatusOutput{Store: store, Sessions: []app.SessionStatus{cached}, State: app.StateSignedIn})
		},
		"token": func(rt *Runtime) error {
			return printToken(rt, domain.Credential{Access: domain.Token{Value: domain.NewSecret("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"), Type: "DPoP",
				Expiry: expiry, Scopes: st.Scopes}, Constraint: st.Constraint})
		},
		"status-ready": func(rt *Runtime) error {
			mem := ports.StoreInfo{Kind: domain.StorageMemory, Label: "memory", Reason: "TokenStorage: memory (env STELLA_TOKEN_STORAGE)"}
			return printStatus(rt, domain.Settings{}, app.StatusOutput{Store: mem, State: app.StateReady, Sessions: []app.SessionStatus{},
				Ready: &app.ReadyCredentials{ClientID: "stella-ci", Authority: "https://authority.example.com", SecretSource: "STELLA_CLIENT_SECRET_FILE"}})
		},
		"status-unreadable": func(rt *Runtime) error {
			err := domain.E(domain.KindStorage, "cannot decrypt the session (wrong passphrase, or the file was modified)", "Fix STELLA_CACHE_PASSPHRASE, or run `stella auth login --force`.")
			res := app.StatusOutput{Store: store, State: app.StateUnreadable, Sessions: []app.SessionStatus{{Key: key, Error: err}}}
			if perr := printStatus(rt, domain.Settings{}, res); perr != nil {
				return perr
			}
			return err
		},
		"status-none": func(rt *Runtime) error {
			err := domain.E(domain.KindLoginRequired, "not signed in to https://authority.example.com as stella-cli", "Run `stella auth login`.")
			if perr := printStatus(rt, domain.Settings{}, app.StatusOutput{Store: store, State: app.StateNone}); perr != nil {
				return perr
			}
			return err
		},
		"login": func(rt *Runtime) error {
			s := domain.Session{Key: key, Grant: st.Grant, Identity: st.Identity, Constraint: st.Constraint, Refresh: domain.NewSecret("r"),
				Access: domain.Token{Type: "DPoP", Expiry: expiry, Scopes: st.Scopes}}
			return printLogin(rt, app.LoginOutput{Session: s, Store: store, Flow: app.FlowBrowser})
		},
		"logout": func(rt *Runtime) error {
			return printLogout(rt, app.LogoutOutput{Results: []app.LogoutResult{{Key: key, Revoked: []string{"refresh_token", "access_token"}}}})
		},
		"whoami": func(rt *Runtime) error {
			return printWhoami(rt, app.WhoamiOutput{Identity: st.Identity, ClientID: "stella-cli", Scopes: st.Scopes,
				Audience: []string{"https://task-runner.example.com"}, IssuedAt: expiry.Add(-time.Hour), Expiry: expiry,
				Constraint: st.Constraint, Source: "userinfo", Claims: map[string]any{"sub": "operator", "cnf": map[string]any{"jkt": st.Constraint.JKT}},
				UserInfo: map[string]any{"sub": "operator", "name": "Olivia Operator"}})
		},
		"doctor": func(rt *Runtime) error {
			res := app.DoctorOutput{Checks: []app.Check{
				{Name: "configuration", Status: app.CheckPass, Detail: "profile default (default), Authority https://authority.example.com (env STELLA_AUTHORITY_URL)"},
				{Name: "authority", Status: app.CheckPass, Detail: "https://authority.example.com answered in 12ms"},
				{Name: "discovery", Status: app.CheckPass, Detail: "issuer matches; endpoints: token, revocation; DPoP ES256"},
				{Name: "clock", Status: app.CheckPass, Detail: "within 1s of the Authority's clock"},
				{Name: "keychain", Status: app.CheckSkip, Detail: "not usable (no D-Bus session bus); not needed with TokenStorage file"},
				{Name: "token cache", Status: app.CheckPass, Detail: "/home/op/.stellaops/tokens is private to this user"},
				{Name: "sessions", Status: app.CheckFail, Detail: "1 of 1 stored session(s) unreadable: cannot decrypt",
					Fix: "Sign in again (`stella auth login`).", Moved: []string{"/home/op/.stellaops/tokens/default-0123456789abcdef.session.corrupt-20261122T120000Z"}},
				{Name: "key cache", Status: app.CheckPass, Detail: "forgot 1 cached key(s) in the session keyring _ses; the next command derives the key (or reads the keychain) again, then keeps it for 15m"},
			}}
			err := domain.E(domain.KindStorage, "1 of 8 checks failed (first: sessions)", "Sign in again.")
			if perr := printDoctor(rt, res, err); perr != nil {
				return perr
			}
			return err
		},
		"pack-approve": func(rt *Runtime) error {
			in := app.PackApproveInput{RunID: "run-1001", GateID: "g1", PlanHash: "sha256:5f0c6e7f0c3a2c1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c", Comment: "LGTM"}
			return printPackApprove(rt, in, app.PackApproveOutput{Status: 200, Body: map[string]any{
				"run": in.RunID, "gate": in.GateID, "planHash": in.PlanHash, "status": "approved", "approvedBy": "operator", "comment": in.Comment}})
		},
		"profile-show": func(rt *Runtime) error {
			return printProfile(rt, domain.Settings{Profile: "packs-approver", ConfigDir: "/home/op/.stellaops", Effective: []domain.Setting{
				{Key: "Authority.Url", Value: "https://authority.example.com", Source: domain.Source{Kind: domain.SourceProfile, Detail: "/home/op/.stellaops/profiles/packs-approver.yaml:3"}},
				{Key: "Authority.ClientSecret", Value: "[redacted]", Source: domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_CLIENT_SECRET_FILE"}},
				{Key: "Authority.AuthMode", Value: "", Source: domain.Source{Kind: domain.SourceDefault}},
			}})
		},
		"api-error": func(rt *Runtime) error {
			return domain.E(domain.KindServer, "GET /api/v1/jobs: 503 Service Unavailable — Backend maintenance: jobs are read-only until 14:00 (request id 7f3a2c)",
				"Try again later; quote the request id when you report it.")
		},
		"error": func(rt *Runtime) error {
			return domain.E(domain.KindForbidden, "GET /api/v1/jobs: 403 Forbidden — missing scope packs.read", "Add packs.read to --scope.")
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			rt := &Runtime{io: term.IO{Out: &out, Err: &bytes.Buffer{}}, globals: Globals{JSON: true},
				clock: func() time.Time { return expiry.Add(-59*time.Minute - 30*time.Second) }}
			// As the runtime does: the command's document, written once,
			// with its error inside.
			finish(rt.io, true, rt.doc, false, rt.hintSettings(), run(rt))
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				_ = os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) {
				t.Fatalf("no golden file %s; run go test ./internal/cli -run Golden -update", path)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("%s changed:\n got %s\nwant %s", name, out.Bytes(), want)
			}
			// The golden file is also what docs/schema promises.
			kind, _, _ := strings.Cut(name, "-")
			if k, ok := map[string]string{"profile-show": "profile-show", "pack-approve": "pack-approve", "api-error": "error"}[name]; ok {
				kind = k
			}
			if err := schema.Check(kind, want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		})
	}
}
