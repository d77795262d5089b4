package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// fakeInspector is storage that is all fine, with a key cache.
type fakeInspector struct {
	report  ports.KeyCacheReport
	err     error
	forgot  bool
	opened  bool // Sessions ran
	opening bool // Sessions ran before the forgetting
}

func (f *fakeInspector) Keychain(context.Context) (bool, error) { return false, nil }
func (f *fakeInspector) CacheDir() (string, error)              { return "/tmp/tokens", nil }
func (f *fakeInspector) Sessions(context.Context) ([]ports.SessionFile, error) {
	f.opened, f.opening = true, !f.forgot
	return nil, nil
}

func (f *fakeInspector) KeyCache(_ context.Context, forget bool) (ports.KeyCacheReport, error) {
	f.forgot = f.forgot || forget
	return f.report, f.err
}

func TestDoctorForgetKeys(t *testing.T) {
	s := testSettings()
	for _, tc := range []struct {
		name   string
		in     []DoctorInput
		insp   fakeInspector
		status CheckStatus // of the key cache check; "" when there is none
		detail string
	}{
		{name: "not asked: the checks of SPEC §3.12 only"},
		{name: "not asked, explicitly", in: []DoctorInput{{}}},
		{name: "forgets", in: []DoctorInput{{ForgetKeys: true}},
			insp:   fakeInspector{report: ports.KeyCacheReport{Where: "session keyring _ses", TTL: 15 * time.Minute, Forgotten: 2}},
			status: CheckPass, detail: "forgot 2 cached key(s) in the session keyring _ses; the next command derives the key (or reads the keychain) again, then keeps it for 15m"},
		{name: "off: what an earlier run kept still goes", in: []DoctorInput{{ForgetKeys: true}},
			insp:   fakeInspector{report: ports.KeyCacheReport{Off: true, Where: "session keyring _ses", Forgotten: 1}},
			status: CheckPass, detail: "forgot 1 cached key(s) in the session keyring _ses; KeyCacheTTL is 0, so no key is kept"},
		{name: "refused", in: []DoctorInput{{ForgetKeys: true}}, insp: fakeInspector{report: ports.KeyCacheReport{Unavailable: "the kernel refuses keyrings here"}},
			status: CheckSkip, detail: "not available: the kernel refuses keyrings here"},
		{name: "fails", in: []DoctorInput{{ForgetKeys: true}},
			insp:   fakeInspector{err: domain.E(domain.KindStorage, "cannot drop a cached key", "Run keyctl.")},
			status: CheckFail, detail: "cannot drop a cached key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insp := tc.insp
			out, err := NewDoctor(s, &fakeAuthority{}, &insp, newClock()).Do(context.Background(), tc.in...)
			last := out.Checks[len(out.Checks)-1]
			if tc.status == "" {
				if len(out.Checks) != 7 || last.Name != "sessions" || insp.forgot {
					t.Fatalf("%d checks, last %q, forgot %v", len(out.Checks), last.Name, insp.forgot)
				}
				return
			}
			if last.Name != "key cache" || last.Status != tc.status || !strings.HasPrefix(last.Detail, tc.detail) {
				t.Fatalf("last check = %+v", last)
			}
			if !insp.opened || !insp.opening {
				t.Fatal("the keys were forgotten before the sessions were opened: they would be cached again")
			}
			if tc.status == CheckFail && domain.KindOf(err) != domain.KindStorage {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
