package cli

import (
	"strings"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// PackCmd groups the Task Pack commands.
type PackCmd struct {
	Approve PackApproveCmd `cmd:"" help:"Approve a pack run's gate for the plan you reviewed."`
}

// PackApproveCmd is `stella pack approve`.
type PackApproveCmd struct {
	RunID    string `name:"pack-run-id" help:"The pack run." placeholder:"RUN"`
	GateID   string `name:"pack-gate-id" help:"The gate to approve." placeholder:"GATE"`
	PlanHash string `name:"pack-plan-hash" help:"The plan you reviewed: sha256:<64 hex>." placeholder:"HASH"`
	Comment  string `help:"A note kept with the approval."`
}

// Help is shown by `stella pack approve --help`.
func (PackApproveCmd) Help() string {
	return `Approves a gate of a pack run. stella asks the Authority for a short-lived
packs.approve token tied to exactly this run, gate and plan hash (with the
approver profile's client credentials, or else by a down-scoped refresh of
your session), uses it for this one call and never stores it. If the run's
plan changed since you reviewed it, the backend refuses with exit 19.
On a terminal, missing values are asked for; otherwise they are required.

Example:
  stella --profile packs-approver pack approve --pack-run-id run-1001 --pack-gate-id g1 \
    --pack-plan-hash sha256:5f0c6e7f0c3a2c1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c --comment "LGTM"`
}

// Run approves.
func (c *PackApproveCmd) Run(rt *Runtime) error {
	// A malformed plan hash is refused before anything else happens.
	if c.PlanHash != "" {
		if err := domain.ValidatePlanHash(c.PlanHash); err != nil {
			return err
		}
	}
	var uc *app.PackApprove
	var prompt ports.Prompter
	if err := rt.Populate(&uc, &prompt); err != nil {
		return err
	}
	fields := []struct {
		value *string
		flag  string
		label string
	}{{&c.RunID, "--pack-run-id", "Pack run id: "}, {&c.GateID, "--pack-gate-id", "Gate id: "}, {&c.PlanHash, "--pack-plan-hash", "Plan hash (sha256:…): "}}
	var missing []string
	for _, f := range fields {
		if strings.TrimSpace(*f.value) == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 && !prompt.Interactive() {
		return domain.E(domain.KindUsage, "missing "+strings.Join(missing, ", "),
			"Pass "+strings.Join(missing, " and ")+"; stella asks for them only on an interactive terminal.")
	}
	for _, f := range fields {
		for strings.TrimSpace(*f.value) == "" {
			v, err := prompt.Line(rt.ctx, f.label)
			if err != nil {
				return err
			}
			*f.value = strings.TrimSpace(v)
		}
	}
	in := app.PackApproveInput{RunID: c.RunID, GateID: c.GateID, PlanHash: c.PlanHash, Comment: c.Comment}
	res, err := uc.Do(rt.ctx, in)
	if err != nil {
		return err
	}
	return printPackApprove(rt, in, res)
}
