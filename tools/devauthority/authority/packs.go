package authority

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sync"
)

// Pack approval (SPEC §3.10): a token for packs.approve carries the run,
// gate and plan hash it was asked for, and the approve route checks them
// against the path and body, and the plan against the run's current one.

var planHash = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// DemoRun is the run every development Authority knows, for the demo.
const (
	DemoRun      = "run-1001"
	DemoPlanHash = "sha256:5f0c6e7f0c3a2c1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c"
)

type runs struct {
	mu   sync.Mutex
	plan map[string]string
}

func newRuns() *runs { return &runs{plan: map[string]string{DemoRun: DemoPlanHash}} }

// approvalParams reads pack_run_id, pack_gate_id and pack_plan_hash; all or
// none must be given.
func approvalParams(f url.Values) (map[string]string, string) {
	p := map[string]string{}
	for _, k := range []string{"pack_run_id", "pack_gate_id", "pack_plan_hash"} {
		if v := f.Get(k); v != "" {
			p[k] = v
		}
	}
	switch {
	case len(p) == 0:
		return nil, ""
	case len(p) != 3:
		return nil, "pack_run_id, pack_gate_id and pack_plan_hash go together"
	case !planHash.MatchString(p["pack_plan_hash"]):
		return nil, "pack_plan_hash must be sha256:<64 hex>"
	}
	return p, ""
}

func (s *Server) approve2(w http.ResponseWriter, r *http.Request, c map[string]any) {
	run, gate := r.PathValue("run"), r.PathValue("gate")
	var body struct {
		PlanHash string `json:"planHash"`
		Comment  string `json:"comment"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm)).Decode(&body); err != nil || !planHash.MatchString(body.PlanHash) {
		problem(w, http.StatusBadRequest, "Bad Request", `the body must be JSON like {"planHash":"sha256:…","comment":"…"}`, nil)
		return
	}
	if c["pack_run_id"] != run || c["pack_gate_id"] != gate || c["pack_plan_hash"] != body.PlanHash {
		problem(w, http.StatusForbidden, "Forbidden", "the approval token was issued for another run, gate or plan", nil)
		return
	}
	s.runs.mu.Lock()
	current, known := s.runs.plan[run]
	s.runs.mu.Unlock()
	switch {
	case !known:
		problem(w, http.StatusNotFound, "Not Found", "no pack run "+run, nil)
		return
	case current != body.PlanHash:
		problem(w, http.StatusConflict, "Plan changed", "the run's plan hash is now "+current+"; review the new plan before approving", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": run, "gate": gate, "planHash": body.PlanHash, "status": "approved",
		"approvedBy": c["sub"], "comment": body.Comment})
}

// adminRuns registers or changes a run's plan: {"run":"r","planHash":"sha256:…"}.
func (s *Server) adminRuns(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Run      string `json:"run"`
		PlanHash string `json:"planHash"`
	}
	if err := decodeJSON(w, r, &body); err != nil || body.Run == "" || !planHash.MatchString(body.PlanHash) {
		problem(w, http.StatusBadRequest, "Bad Request", `want {"run":"…","planHash":"sha256:<64 hex>"}`, nil)
		return
	}
	s.runs.mu.Lock()
	s.runs.plan[body.Run] = body.PlanHash
	s.runs.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func hasScope(scopes []string, s string) bool { return slices.Contains(scopes, s) }
