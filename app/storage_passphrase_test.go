package app

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stellaops/stella/domain"
)

// typist types the answers given, one per prompt, and records the prompts.
type typist struct {
	interactive bool
	answers     []string
	fail        error // returned once the answers run out
	prompts     []string
}

func (p *typist) Interactive() bool { return p.interactive }
func (p *typist) Secret(_ context.Context, prompt string) (domain.Secret, error) {
	p.prompts = append(p.prompts, prompt)
	if len(p.answers) == 0 {
		if p.fail == nil {
			return domain.Secret{}, errors.New("asked more often than the test expected")
		}
		return domain.Secret{}, p.fail
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return domain.NewSecret(a), nil
}
func (p *typist) Line(context.Context, string) (string, error) {
	return "", errors.New("no line is asked for a passphrase")
}

func TestPassphrases(t *testing.T) {
	const (
		ask      = "Passphrase for the stella token cache: "
		askEmpty = "The passphrase may not be empty. Passphrase: "
		askNew   = "New passphrase for the stella token cache: "
		again    = "Type it again: "
		newEmpty = "The passphrase may not be empty. New passphrase: "
		mismatch = "The two did not match. New passphrase: "
	)
	interrupted := domain.E(domain.KindUsage, "interrupted", "")
	for _, tc := range []struct {
		name       string
		configured string
		typist     typist
		ask        func(*Passphrases, context.Context) (domain.Secret, error)

		want    string       // the passphrase returned, when no error
		errKind *domain.Kind // the kind of the error, when one is expected
		isErr   error        // or: the error returned as is
		prompts []string
	}{
		{name: "configured: nobody is asked", configured: "from-env", ask: (*Passphrases).Current, want: "from-env"},
		{name: "typed", typist: typist{interactive: true, answers: []string{"typed"}}, ask: (*Passphrases).Current,
			want: "typed", prompts: []string{ask}},
		{name: "empty, then typed", typist: typist{interactive: true, answers: []string{"", "typed"}}, ask: (*Passphrases).Current,
			want: "typed", prompts: []string{ask, askEmpty}},
		{name: "empty three times: returned, the store says why", typist: typist{interactive: true, answers: []string{"", "", ""}}, ask: (*Passphrases).Current,
			want: "", prompts: []string{ask, askEmpty, askEmpty}},
		{name: "not interactive: a storage error saying how to set one", ask: (*Passphrases).Current, errKind: wantKind(domain.KindStorage)},
		{name: "the prompt fails", typist: typist{interactive: true, fail: interrupted}, ask: (*Passphrases).Current,
			isErr: interrupted, prompts: []string{ask}},
		{name: "new, typed twice alike", typist: typist{interactive: true, answers: []string{"n1", "n1"}}, ask: (*Passphrases).New,
			want: "n1", prompts: []string{askNew, again}},
		{name: "new, a mismatch then alike", typist: typist{interactive: true, answers: []string{"n1", "n2", "n3", "n3"}}, ask: (*Passphrases).New,
			want: "n3", prompts: []string{askNew, again, mismatch, again}},
		{name: "new, empty then alike", typist: typist{interactive: true, answers: []string{"", "n1", "n1"}}, ask: (*Passphrases).New,
			want: "n1", prompts: []string{askNew, newEmpty, again}},
		{name: "new, never alike in three tries", typist: typist{interactive: true, answers: []string{"a", "b", "c", "d", "", "x"}}, ask: (*Passphrases).New,
			errKind: wantKind(domain.KindStorage), prompts: []string{askNew, again, mismatch, again, mismatch}},
		{name: "new, the confirmation fails", typist: typist{interactive: true, answers: []string{"n1"}, fail: interrupted}, ask: (*Passphrases).New,
			isErr: interrupted, prompts: []string{askNew, again}},
		{name: "again, attempt 2", typist: typist{interactive: true, answers: []string{"second"}},
			ask:  func(u *Passphrases, ctx context.Context) (domain.Secret, error) { return u.Again(ctx, 2) },
			want: "second", prompts: []string{"Wrong passphrase; try again (2 of 3): "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			if tc.configured != "" {
				s.CachePassphrase = domain.NewSecret(tc.configured)
			}
			p := tc.typist
			got, err := tc.ask(NewPassphrases(s, &p), context.Background())
			switch {
			case tc.isErr != nil:
				if !errors.Is(err, tc.isErr) {
					t.Fatalf("err = %v, want %v", err, tc.isErr)
				}
			case tc.errKind != nil:
				if err == nil || domain.KindOf(err) != *tc.errKind {
					t.Fatalf("err = %v (kind %v), want kind %v", err, domain.KindOf(err), *tc.errKind)
				}
			case err != nil:
				t.Fatal(err)
			case got.Reveal() != tc.want:
				t.Errorf("passphrase %q, want %q", got.Reveal(), tc.want)
			}
			if !slices.Equal(p.prompts, tc.prompts) {
				t.Errorf("prompts %q, want %q", p.prompts, tc.prompts)
			}
		})
	}
}

func wantKind(k domain.Kind) *domain.Kind { return &k }
