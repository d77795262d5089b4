package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

const planHash = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// PackApprove gets a one-shot packs.approve token tied to run, gate and
// plan (SPEC §3.10) — with the approver's secret, or by a down-scoped
// refresh — uses it for the one call, and stores no such token.
func TestPackApprove(t *testing.T) {
	const gatePath = "POST /api/v1/packs/runs/run-1001/gates/g1/approve"
	approved := route{status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `{"status":"approved"}`}
	cases := []struct {
		name      string
		secret    bool
		stored    bool // a signed-in session
		noBackend bool
		hash      string
		answer    route
		ok        bool        // no error
		kind      domain.Kind // when not ok
		message   string      // a part of it
		hint      string      // a part of it
		grant     string      // "refresh", "client_credentials" or "" (none sent)
	}{
		{name: "down-scoped refresh of the session", stored: true, hash: planHash, answer: approved, ok: true, grant: "refresh"},
		{name: "the approver's client credentials", secret: true, hash: planHash, answer: approved, ok: true, grant: "client_credentials"},
		{name: "a malformed plan hash: nothing sent", stored: true, hash: "abc", kind: domain.KindUsage},
		{name: "no backend: nothing sent", stored: true, hash: planHash, noBackend: true, kind: domain.KindUsage, message: "no backend URL"},
		{name: "no session and no secret", hash: planHash, kind: domain.KindLoginRequired, hint: "`stella auth login --profile work` (asking for packs.approve)"},
		{name: "the plan changed: 19 with the server's detail", stored: true, hash: planHash, grant: "refresh",
			answer: route{status: 409, header: http.Header{"Content-Type": {"application/problem+json"}}, body: `{"title":"Plan changed","detail":"hash differs"}`},
			kind:   domain.KindConflict, message: "the plan of run run-1001 changed: hash differs"},
		{name: "forbidden", stored: true, hash: planHash, grant: "refresh",
			answer: route{status: 403, header: http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="packs.approve"`}}},
			kind:   domain.KindForbidden, message: "missing scope packs.approve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			s.Profile = "work"
			if tc.secret {
				s.ClientSecret = domain.NewSecret("approver-secret")
			}
			if tc.noBackend {
				s.BackendURL = ""
			}
			f := newTM(t, s)
			now := f.clock.Now()
			if tc.stored {
				f.store.sessions[s.SessionKey()] = userSession(s, now.Add(-time.Minute), now.Add(time.Hour))
			}
			backend := &recordingBackend{routes: map[string]route{gatePath: tc.answer}}
			out, err := NewPackApprove(s, f.auth, f.tm, backend).Do(context.Background(),
				PackApproveInput{RunID: "run-1001", GateID: "g1", PlanHash: tc.hash, Comment: "looks right"})

			switch tc.grant {
			case "refresh":
				if f.auth.refresh.Load() != 1 || f.auth.cc.Load() != 0 {
					t.Fatalf("refreshes %d, client-credentials grants %d", f.auth.refresh.Load(), f.auth.cc.Load())
				}
				// The rotated refresh token is kept; the session's own
				// access token stays what it was.
				if kept := f.store.sessions[s.SessionKey()]; kept.Refresh.Reveal() != "rt-1" || kept.Access.Value.Reveal() != "at-old" {
					t.Fatalf("stored refresh %q, access %q", kept.Refresh.Reveal(), kept.Access.Value.Reveal())
				}
			case "client_credentials":
				if f.auth.refresh.Load() != 0 || f.auth.cc.Load() != 1 {
					t.Fatalf("refreshes %d, client-credentials grants %d", f.auth.refresh.Load(), f.auth.cc.Load())
				}
			default:
				if f.auth.refresh.Load()+f.auth.cc.Load() != 0 || len(backend.seen) != 0 {
					t.Fatalf("sent a grant or a call: %d %d %d", f.auth.refresh.Load(), f.auth.cc.Load(), len(backend.seen))
				}
			}
			if tc.grant != "" {
				want := ports.TokenRequest{Scopes: domain.Scopes{"packs.approve"},
					Extra: map[string]string{"pack_run_id": "run-1001", "pack_gate_id": "g1", "pack_plan_hash": planHash}}
				if got := f.auth.lastReq; got.Scopes.String() != want.Scopes.String() || len(got.Extra) != 3 ||
					got.Extra["pack_run_id"] != "run-1001" || got.Extra["pack_gate_id"] != "g1" || got.Extra["pack_plan_hash"] != planHash {
					t.Fatalf("token request %+v", got)
				}
				checkApprovalCall(t, backend, s, f)
			}
			if !tc.ok {
				if err == nil || domain.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.message) || !strings.Contains(s.HintFor(err), tc.hint) {
					t.Fatalf("err = %v (%v), hint %q", err, domain.KindOf(err), s.HintFor(err))
				}
				return
			}
			if err != nil || out.Status != 200 || out.Body["status"] != "approved" {
				t.Fatalf("out %+v, err %v", out, err)
			}
		})
	}
}

// checkApprovalCall: one POST with the plan hash and comment, made with
// the one-shot token, which is never stored.
func checkApprovalCall(t *testing.T, b *recordingBackend, s domain.Settings, f *tmFixture) {
	t.Helper()
	if len(b.seen) != 1 {
		t.Fatalf("%d backend calls", len(b.seen))
	}
	call := b.seen[0]
	var body map[string]string
	if err := json.Unmarshal([]byte(call.body), &body); err != nil || body["planHash"] != planHash || body["comment"] != "looks right" ||
		call.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("body %q, header %v", call.body, call.Header)
	}
	if call.Credential == nil || !strings.HasPrefix(call.Credential.Access.Value.Reveal(), "at-") {
		t.Fatalf("credential %+v", call.Credential)
	}
	oneShot := call.Credential.Access.Value
	for _, stored := range f.store.sessions {
		if stored.Access.Value.Equal(oneShot) {
			t.Fatal("the one-shot approval token was stored")
		}
	}
	if cur := f.tm.current; cur != nil && cur.Access.Value.Equal(oneShot) {
		t.Fatal("the one-shot approval token became the session's")
	}
}
