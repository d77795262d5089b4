package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// fakeKeychain answers probes with a scripted verdict and records what is
// kept for later commands.
type fakeKeychain struct {
	mu         sync.Mutex
	remembered *ports.KeychainVerdict // a verdict an earlier command kept
	answer     ports.KeychainVerdict  // what a probe finds
	during     func()                 // runs inside the probe (to interrupt it)
	probes     int
	kept       []ports.KeychainVerdict
}

func (k *fakeKeychain) Remembered(time.Time) (ports.KeychainVerdict, bool) {
	if k.remembered == nil {
		return ports.KeychainVerdict{}, false
	}
	return *k.remembered, true
}

func (k *fakeKeychain) Probe(_ context.Context, now time.Time) ports.KeychainVerdict {
	k.mu.Lock()
	k.probes++
	k.mu.Unlock()
	if k.during != nil {
		k.during()
	}
	v := k.answer
	v.At = now
	return v
}

func (k *fakeKeychain) Remember(v ports.KeychainVerdict) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kept = append(k.kept, v)
}

// madeStores makes stores that say what they are, and records each made.
type madeStores struct {
	made []ports.StoreInfo
}

func (m *madeStores) KeychainStore(reason string) ports.SessionStore {
	return m.make(domain.StorageKeychain, reason)
}
func (m *madeStores) FileStore(reason string) ports.SessionStore {
	return m.make(domain.StorageFile, reason)
}
func (m *madeStores) MemoryStore(reason string) ports.SessionStore {
	return m.make(domain.StorageMemory, reason)
}

func (m *madeStores) make(kind domain.StorageKind, reason string) ports.SessionStore {
	info := ports.StoreInfo{Kind: kind, Label: "fake " + string(kind), Reason: reason}
	m.made = append(m.made, info)
	return &kindStore{fakeStore: newStore(), info: info}
}

// kindStore is the fake store, describing itself as the kind it stands for.
type kindStore struct {
	*fakeStore
	info ports.StoreInfo
}

func (s *kindStore) Info() ports.StoreInfo { return s.info }

// fakeConsent records consents in a pretend config.yaml.
type fakeConsent struct {
	err      error
	recorded []domain.StorageKind
}

const consentFile = "/home/o/.config/stella/config.yaml"

func (c *fakeConsent) RecordStorage(kind domain.StorageKind) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	c.recorded = append(c.recorded, kind)
	return consentFile, nil
}

// consentPrompter answers the consent question.
type consentPrompter struct {
	interactive bool
	answer      string
	err         error
	asked       []string
}

func (p *consentPrompter) Interactive() bool { return p.interactive }
func (p *consentPrompter) Secret(context.Context, string) (domain.Secret, error) {
	return domain.Secret{}, errors.New("no secret is asked for in the storage choice")
}
func (p *consentPrompter) Line(_ context.Context, prompt string) (string, error) {
	p.asked = append(p.asked, prompt)
	return p.answer, p.err
}

// sayings is a console that keeps what was said.
type sayings struct{ lines []string }

func (c *sayings) Say(line string) { c.lines = append(c.lines, line) }
func (c *sayings) Progress(string) {}
func (c *sayings) Done()           {}

var (
	answered = ports.KeychainVerdict{OK: true}
	noBus    = ports.KeychainVerdict{Detail: "no D-Bus session bus."}
)

// storageRig is one StorageChoice over fakes.
type storageRig struct {
	keychain *fakeKeychain
	stores   *madeStores
	consent  *fakeConsent
	prompter *consentPrompter
	console  *sayings
	clock    *fakeClock
	choice   *StorageChoice
}

func newStorageRig(s domain.Settings, kc *fakeKeychain, p *consentPrompter, consentErr error) *storageRig {
	r := &storageRig{keychain: kc, stores: &madeStores{}, consent: &fakeConsent{err: consentErr}, prompter: p, console: &sayings{}, clock: newClock()}
	r.choice = NewStorageChoice(s, kc, r.stores, r.consent, p, r.console, r.clock)
	return r
}

func autoSettings() domain.Settings {
	s := testSettings()
	s.TokenStorage = domain.StorageAuto
	s.TokenCacheDir = "/home/o/.cache/stella"
	return s
}

// named sets TokenStorage to kind, from source.
func named(kind domain.StorageKind, source domain.SourceKind, detail string) func(*domain.Settings) {
	return func(s *domain.Settings) {
		s.TokenStorage = kind
		s.Effective = append(s.Effective, domain.Setting{Key: "Authority.TokenStorage", Value: string(kind), Source: domain.Source{Kind: source, Detail: detail}})
	}
}

func TestStorageChoice(t *testing.T) {
	earlier := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	passphrase := func(s *domain.Settings) { s.CachePassphrase = domain.NewSecret("pp") }
	clientSecret := func(s *domain.Settings) { s.ClientSecret = domain.NewSecret("cs") }
	password := func(s *domain.Settings) { s.Password = domain.NewSecret("pw") }
	recordFails := domain.E(domain.KindUsage, "cannot write config.yaml", "Check the file's permissions.")
	promptFails := domain.E(domain.KindUsage, "no terminal", "")
	for _, tc := range []struct {
		name       string
		settings   func(*domain.Settings)
		remembered *ports.KeychainVerdict
		answer     ports.KeychainVerdict
		prompter   consentPrompter
		consentErr error

		kind    domain.StorageKind // the store made; "" for none
		reason  string             // its Info().Reason
		errKind domain.Kind        // when kind is "": the error's kind
		errText string             // and a part of its message
		probes  int
		kept    []bool // the OK of each verdict kept
		asked   bool   // the consent question was asked
		said    []string
	}{
		{name: "config already says file (an earlier consent): no probe, no question", settings: named(domain.StorageFile, domain.SourceConfig, consentFile+":3"),
			answer: answered, prompter: consentPrompter{interactive: true, answer: "no"},
			kind: domain.StorageFile, reason: "TokenStorage: file (config " + consentFile + ":3)"},
		{name: "the environment says keychain: taken even when it fails", settings: named(domain.StorageKeychain, domain.SourceEnv, "STELLA_TOKEN_STORAGE"), answer: noBus,
			kind: domain.StorageKeychain, reason: "TokenStorage: keychain (env STELLA_TOKEN_STORAGE)"},
		{name: "memory, named", settings: named(domain.StorageMemory, domain.SourceFlag, "--token-storage"), answer: answered,
			kind: domain.StorageMemory, reason: "TokenStorage: memory (flag --token-storage)"},
		{name: "redis: not the choice's to make", settings: named(domain.StorageRedis, domain.SourceEnv, "STELLA_TOKEN_STORAGE"), answer: answered,
			errKind: domain.KindUnexpected, errText: "TokenStorage: redis"},
		{name: "keychain answers", answer: answered,
			kind: domain.StorageKeychain, reason: "auto: the OS keychain answered (checked just now)", probes: 1, kept: []bool{true}},
		{name: "keychain answered earlier: no probe", remembered: &ports.KeychainVerdict{OK: true, At: earlier, Cached: true}, answer: noBus,
			kind: domain.StorageKeychain, reason: "auto: the OS keychain answered (checked at " + earlier.Local().Format("15:04") + ")"},
		{name: "keychain failed earlier, passphrase configured: no probe, no question", settings: passphrase,
			remembered: &ports.KeychainVerdict{Detail: "no D-Bus session bus.", Cached: true}, answer: answered, prompter: consentPrompter{interactive: true},
			kind: domain.StorageFile, reason: "auto: the OS keychain is not usable: no D-Bus session bus; a cache passphrase is configured, so the encrypted file"},
		{name: "keychain unavailable, passphrase configured: the failure is kept", settings: passphrase, answer: noBus,
			kind: domain.StorageFile, reason: "auto: the OS keychain is not usable: no D-Bus session bus; a cache passphrase is configured, so the encrypted file",
			probes: 1, kept: []bool{false}},
		{name: "keychain unavailable, client secret: memory, and no file left behind", settings: clientSecret, answer: noBus,
			kind: domain.StorageMemory, reason: "auto: the OS keychain is not usable: no D-Bus session bus; these credentials sign in again without a person, so nothing is kept",
			probes: 1},
		{name: "keychain answers, client secret: kept, since the keychain is used", settings: clientSecret, answer: answered,
			kind: domain.StorageKeychain, reason: "auto: the OS keychain answered (checked just now)", probes: 1, kept: []bool{true}},
		{name: "keychain unavailable, password grant: memory", settings: password, answer: noBus, prompter: consentPrompter{interactive: true},
			kind: domain.StorageMemory, reason: "auto: the OS keychain is not usable: no D-Bus session bus; these credentials sign in again without a person, so nothing is kept",
			probes: 1},
		{name: "client secret and passphrase: the passphrase asks for the file", settings: func(s *domain.Settings) { clientSecret(s); passphrase(s) }, answer: noBus,
			kind: domain.StorageFile, reason: "auto: the OS keychain is not usable: no D-Bus session bus; a cache passphrase is configured, so the encrypted file",
			probes: 1, kept: []bool{false}},
		{name: "consent yes: recorded, then the file", answer: noBus, prompter: consentPrompter{interactive: true, answer: "yes"},
			kind: domain.StorageFile, reason: "auto: the OS keychain is not usable; you chose the encrypted file (remembered in " + consentFile + ")",
			probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus.", "Remembered in " + consentFile + " (TokenStorage: file)."}},
		{name: "consent Y, spaced", answer: noBus, prompter: consentPrompter{interactive: true, answer: "  Y \n"},
			kind: domain.StorageFile, reason: "auto: the OS keychain is not usable; you chose the encrypted file (remembered in " + consentFile + ")",
			probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus.", "Remembered in " + consentFile + " (TokenStorage: file)."}},
		{name: "consent no", answer: noBus, prompter: consentPrompter{interactive: true, answer: "no"},
			errKind: domain.KindStorage, errText: "the file store was declined", probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus."}},
		{name: "consent by default is no", answer: noBus, prompter: consentPrompter{interactive: true, answer: ""},
			errKind: domain.KindStorage, errText: "the file store was declined", probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus."}},
		{name: "non-interactive: nobody to ask", answer: noBus,
			errKind: domain.KindStorage, errText: "the OS keychain is not usable: no D-Bus session bus; the encrypted file store needs your consent",
			probes: 1, kept: []bool{false}},
		{name: "the prompt fails: its error", answer: noBus, prompter: consentPrompter{interactive: true, err: promptFails},
			errKind: domain.KindUsage, errText: "no terminal", probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus."}},
		{name: "recording the consent fails: no store", answer: noBus, prompter: consentPrompter{interactive: true, answer: "y"}, consentErr: recordFails,
			errKind: domain.KindUsage, errText: "cannot write config.yaml", probes: 1, kept: []bool{false}, asked: true,
			said: []string{"The OS keychain is not usable here: no D-Bus session bus."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := autoSettings()
			if tc.settings != nil {
				tc.settings(&s)
			}
			p := tc.prompter
			r := newStorageRig(s, &fakeKeychain{remembered: tc.remembered, answer: tc.answer}, &p, tc.consentErr)
			st, err := r.choice.Do(context.Background())
			if tc.kind != "" {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if got := st.Info(); got.Kind != tc.kind || got.Reason != tc.reason {
					t.Errorf("chose %s (%q), want %s (%q)", got.Kind, got.Reason, tc.kind, tc.reason)
				}
			} else {
				if err == nil {
					t.Fatalf("Do chose %+v, want an error", st.Info())
				}
				if domain.KindOf(err) != tc.errKind || !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("err = %v (kind %v), want kind %v with %q", err, domain.KindOf(err), tc.errKind, tc.errText)
				}
				if len(r.stores.made) != 0 {
					t.Errorf("made %+v after failing", r.stores.made)
				}
			}
			if r.keychain.probes != tc.probes {
				t.Errorf("probed %d times, want %d", r.keychain.probes, tc.probes)
			}
			var kept []bool
			for _, v := range r.keychain.kept {
				kept = append(kept, v.OK)
			}
			if !slices.Equal(kept, tc.kept) {
				t.Errorf("verdicts kept (OK) %v, want %v", kept, tc.kept)
			}
			if asked := len(p.asked) > 0; asked != tc.asked {
				t.Errorf("asked %v, want asked %v", p.asked, tc.asked)
			} else if asked && p.asked[0] != "Keep sessions in passphrase-encrypted files in /home/o/.cache/stella instead? [y/N] " {
				t.Errorf("asked %q", p.asked[0])
			}
			if !slices.Equal(r.console.lines, tc.said) {
				t.Errorf("said %q, want %q", r.console.lines, tc.said)
			}
			recorded := len(r.consent.recorded) > 0
			if wantRecorded := tc.kind == domain.StorageFile && tc.asked; recorded != wantRecorded ||
				recorded && (len(r.consent.recorded) != 1 || r.consent.recorded[0] != domain.StorageFile) {
				t.Errorf("recorded %v", r.consent.recorded)
			}
		})
	}
}

// An interrupted probe is no verdict: nothing is chosen or kept, and the
// error is the context's.
func TestStorageChoiceInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newStorageRig(autoSettings(), &fakeKeychain{answer: noBus, during: cancel}, &consentPrompter{interactive: true, answer: "y"}, nil)
	_, err := r.choice.Do(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(r.keychain.kept) != 0 || len(r.stores.made) != 0 || len(r.prompter.asked) != 0 {
		t.Errorf("kept %v, made %v, asked %v", r.keychain.kept, r.stores.made, r.prompter.asked)
	}
}

// What a kept verdict settles without a probe or a question is what the
// composition root opens ahead of need; everything else waits.
func TestSettledStorage(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		verdict    ports.KeychainVerdict
		passphrase bool
		kind       domain.StorageKind
		ok         bool
	}{
		{name: "answered", verdict: ports.KeychainVerdict{OK: true, At: at, Cached: true}, kind: domain.StorageKeychain, ok: true},
		{name: "answered, passphrase too: the keychain", verdict: ports.KeychainVerdict{OK: true}, passphrase: true, kind: domain.StorageKeychain, ok: true},
		{name: "failed, passphrase configured", verdict: noBus, passphrase: true, kind: domain.StorageFile, ok: true},
		{name: "failed, no passphrase: someone must be asked", verdict: noBus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := autoSettings()
			if tc.passphrase {
				s.CachePassphrase = domain.NewSecret("pp")
			}
			kind, reason, ok := SettledStorage(s, tc.verdict)
			if kind != tc.kind || ok != tc.ok || ok == (reason == "") {
				t.Errorf("SettledStorage = %q, %q, %v; want %q, %v", kind, reason, ok, tc.kind, tc.ok)
			}
		})
	}
}

// auth doctor's probe is always fresh; it keeps the verdict as the choice
// would, except that storage leaving nothing on disk keeps only a verdict
// auto will use the keychain by.
func TestStorageChoiceDoctorProbe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		storage domain.StorageKind
		secret  bool
		answer  ports.KeychainVerdict
		used    bool
		kept    []bool
		errKind domain.Kind // when the keychain fails
	}{
		{name: "auto, answers", storage: domain.StorageAuto, answer: answered, used: true, kept: []bool{true}},
		{name: "auto, fails", storage: domain.StorageAuto, answer: noBus, kept: []bool{false}, errKind: domain.KindStorage},
		{name: "auto, client secret, fails: nothing kept", storage: domain.StorageAuto, secret: true, answer: noBus, errKind: domain.KindStorage},
		{name: "auto, client secret, answers: kept", storage: domain.StorageAuto, secret: true, answer: answered, used: true, kept: []bool{true}},
		{name: "keychain, fails: used all the same", storage: domain.StorageKeychain, answer: noBus, used: true, kept: []bool{false}, errKind: domain.KindStorage},
		{name: "file, answers: not used", storage: domain.StorageFile, answer: answered, kept: []bool{true}},
		{name: "memory, answers: nothing kept", storage: domain.StorageMemory, answer: answered},
		{name: "memory, fails: nothing kept", storage: domain.StorageMemory, answer: noBus, errKind: domain.KindStorage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := autoSettings()
			s.TokenStorage = tc.storage
			if tc.secret {
				s.ClientSecret = domain.NewSecret("cs")
			}
			// A kept verdict is not believed: the doctor probes afresh.
			kc := &fakeKeychain{remembered: &ports.KeychainVerdict{OK: !tc.answer.OK, Cached: true}, answer: tc.answer}
			r := newStorageRig(s, kc, &consentPrompter{}, nil)
			used, err := r.choice.Keychain(context.Background())
			if used != tc.used {
				t.Errorf("used = %v, want %v", used, tc.used)
			}
			if tc.answer.OK && err != nil || !tc.answer.OK && (domain.KindOf(err) != tc.errKind || !strings.Contains(err.Error(), "no D-Bus")) {
				t.Errorf("err = %v", err)
			}
			if kc.probes != 1 {
				t.Errorf("probed %d times", kc.probes)
			}
			var kept []bool
			for _, v := range kc.kept {
				kept = append(kept, v.OK)
			}
			if !slices.Equal(kept, tc.kept) {
				t.Errorf("kept %v, want %v", kept, tc.kept)
			}
		})
	}
}

// The deferred store chooses on first use, once, and is the chosen store
// from then on; before that it says the choice is open, after a failure
// it says why.
func TestDeferredStore(t *testing.T) {
	ctx := context.Background()
	t.Run("chooses once, on first use", func(t *testing.T) {
		r := newStorageRig(autoSettings(), &fakeKeychain{answer: answered}, &consentPrompter{}, nil)
		d := NewDeferredStore(r.choice, discardLog())
		if i := d.Info(); i.Kind != domain.StorageAuto || i.Reason != "auto: not decided yet" || r.keychain.probes != 0 {
			t.Fatalf("before use: %+v, %d probes", i, r.keychain.probes)
		}
		if st := d.KeyCacheStatus(storetest.Key); st != (ports.KeyCacheStatus{}) || r.keychain.probes != 0 {
			t.Fatalf("KeyCacheStatus chose: %+v", st)
		}
		sess := storetest.Session(storetest.Key, 100, 1)
		if err := d.Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Load(ctx, storetest.Key); err != nil {
			t.Fatal(err)
		}
		if keys, err := d.List(ctx); err != nil || len(keys) != 1 {
			t.Fatalf("List = %v, %v", keys, err)
		}
		if r.keychain.probes != 1 || len(r.stores.made) != 1 {
			t.Fatalf("%d probes, %d stores made; want 1, 1", r.keychain.probes, len(r.stores.made))
		}
		if i := d.Info(); i.Kind != domain.StorageKeychain {
			t.Errorf("after use: %+v", i)
		}
	})
	t.Run("a failed choice is kept and said", func(t *testing.T) {
		r := newStorageRig(autoSettings(), &fakeKeychain{answer: noBus}, &consentPrompter{}, nil)
		d := NewDeferredStore(r.choice, discardLog())
		for range 2 {
			if _, err := d.Load(ctx, storetest.Key); domain.KindOf(err) != domain.KindStorage {
				t.Fatalf("Load: %v", err)
			}
		}
		if _, err := d.Inspect(ctx); domain.KindOf(err) != domain.KindStorage {
			t.Errorf("Inspect: %v", err)
		}
		if r.keychain.probes != 1 {
			t.Errorf("probed %d times", r.keychain.probes)
		}
		if i := d.Info(); i.Kind != domain.StorageAuto || !strings.HasPrefix(i.Reason, "auto: the OS keychain is not usable") {
			t.Errorf("Info = %+v", i)
		}
	})
	// The lock follows the choice: memory leaves nothing on disk, not
	// even a lock file.
	for _, tc := range []struct {
		name   string
		secret bool
		answer ports.KeychainVerdict
		file   bool
	}{
		{name: "keychain: the file lock", answer: answered, file: true},
		{name: "memory: the in-process lock", secret: true, answer: noBus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := autoSettings()
			if tc.secret {
				s.ClientSecret = domain.NewSecret("cs")
			}
			r := newStorageRig(s, &fakeKeychain{answer: tc.answer}, &consentPrompter{}, nil)
			file, mem := &choiceLocker{}, &choiceLocker{}
			unlock, err := NewDeferredStore(r.choice, discardLog()).Locker(file, mem).Lock(ctx, storetest.Key)
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			if (file.n == 1) != tc.file || file.n+mem.n != 1 {
				t.Errorf("file lock taken %d times, in-process %d", file.n, mem.n)
			}
		})
	}
}

// TestDeferredStoreContract holds the deferred store, over the fakes, to
// the contract: it adds nothing a real store would not do.
func TestDeferredStoreContract(t *testing.T) {
	storetest.Run(t, "deferred", func(*testing.T) ports.SessionStore {
		r := newStorageRig(autoSettings(), &fakeKeychain{answer: answered}, &consentPrompter{}, nil)
		return NewDeferredStore(r.choice, discardLog())
	})
}

// choiceLocker counts the locks taken.
type choiceLocker struct {
	mu sync.Mutex
	n  int
}

func (l *choiceLocker) Lock(context.Context, domain.SessionKey) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	return func() {}, nil
}
