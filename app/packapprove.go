package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// PackApproveInput names the gate to approve and the plan seen.
type PackApproveInput struct {
	RunID, GateID, PlanHash, Comment string
}

// PackApproveOutput is the backend's answer.
type PackApproveOutput struct {
	Status int
	Body   map[string]any
}

// PackApprove approves a pack gate with a one-shot packs.approve token tied
// to the run, gate and plan (SPEC §3.10). The token is used for this call
// only and never stored.
type PackApprove struct {
	settings  domain.Settings
	authority ports.Authority
	tokens    *TokenManager
	backend   ports.Backend
}

// NewPackApprove builds the use case; it does no I/O.
func NewPackApprove(s domain.Settings, authority ports.Authority, tokens *TokenManager, backend ports.Backend) *PackApprove {
	return &PackApprove{settings: s, authority: authority, tokens: tokens, backend: backend}
}

// Do approves.
func (u *PackApprove) Do(ctx context.Context, in PackApproveInput) (PackApproveOutput, error) {
	if err := domain.ValidatePlanHash(in.PlanHash); err != nil {
		return PackApproveOutput{}, err
	}
	if err := u.settings.RequireAuthority(); err != nil {
		return PackApproveOutput{}, err
	}
	if err := u.settings.RequireBackend(); err != nil {
		return PackApproveOutput{}, err
	}
	req := ports.TokenRequest{Scopes: domain.Scopes{"packs.approve"}, Audience: u.settings.Audience,
		Extra: map[string]string{"pack_run_id": in.RunID, "pack_gate_id": in.GateID, "pack_plan_hash": in.PlanHash}}
	cred, err := u.approvalToken(ctx, req)
	if err != nil {
		return PackApproveOutput{}, err
	}
	body, _ := json.Marshal(map[string]string{"planHash": in.PlanHash, "comment": in.Comment})
	path := "/api/v1/packs/runs/" + url.PathEscape(in.RunID) + "/gates/" + url.PathEscape(in.GateID) + "/approve"
	resp, err := u.backend.Do(ctx, ports.BackendRequest{Method: http.MethodPost, Path: path,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: bytes.NewReader(body), Credential: &cred})
	if err != nil {
		return PackApproveOutput{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.Status < 200 || resp.Status > 299 {
		if resp.Status == http.StatusConflict {
			p, _ := domain.ParseProblem(raw)
			// The title ("Plan changed") says what the message already does:
			// keep only the server's detail.
			why := p.Detail.String()
			if why == "" {
				why = p.Summary() // sanitised, like Detail's String
			}
			return PackApproveOutput{}, domain.E(domain.KindConflict, fmt.Sprintf("the plan of run %s changed: %s", domain.Printable(in.RunID, 100), why),
				"Review the run's current plan, then approve with its plan hash.")
		}
		return PackApproveOutput{}, BackendError(u.settings, http.MethodPost, path, resp.Status, resp.Header, raw)
	}
	out := PackApproveOutput{Status: resp.Status}
	_ = json.Unmarshal(raw, &out.Body)
	return out, nil
}

// approvalToken asks for the one-shot token: with client credentials when
// the profile has a secret (the approver profile), else by a down-scoped
// refresh of the signed-in session.
func (u *PackApprove) approvalToken(ctx context.Context, req ports.TokenRequest) (domain.Credential, error) {
	if u.settings.HasClientSecret() {
		b, err := u.tokens.binder.fresh() // a one-shot token of its own
		if err != nil {
			return domain.Credential{}, err
		}
		req.DPoPKey = b.key
		g, err := u.authority.ClientCredentials(ctx, req)
		if err != nil {
			return domain.Credential{}, err
		}
		return domain.Credential{Access: g.Access, Constraint: domain.SenderConstraint{Mode: u.settings.AuthMode, JKT: b.jkt, X5tS256: b.x5t}, DPoPKey: b.key}, nil
	}
	return u.tokens.DownScoped(ctx, req)
}
