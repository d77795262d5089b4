package cli

import (
	"strings"
	"testing"

	"github.com/stellaops/stella/domain"
)

func TestSplitHeader(t *testing.T) {
	for _, tc := range []struct {
		in, name, value, wantErr string
	}{
		{"Accept: application/json", "Accept", "application/json", ""},
		{" X-Note :  a, b ", "X-Note", "a, b", ""},
		{"X-Empty:", "X-Empty", "", ""},
		{"X-Api-Key secret", "", "", "header -H #3 has no colon: it is not 'Name: value'"},
		{"secret", "", "", "header -H #3 has no colon: it is not 'Name: value'"},
		{": secret", "", "", "header -H #3 has no name before its colon"},
		{"X Key: secret", "", "", "header -H #3 has a space in its name"},
		{"X-Key: secret\r\nX-Evil: 1", "", "", "the value of header X-Key has a line break in it"},
		{"X-Key: secret\nX-Evil: 1", "", "", "the value of header X-Key has a line break in it"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			name, value, err := splitHeader(3, tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || domain.KindOf(err) != domain.KindUsage {
					t.Fatalf("splitHeader(%q) = %v, want usage error %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error()+domain.HintFor(err), "secret") {
					t.Fatalf("the refusal repeats the value: %v", err)
				}
				return
			}
			if err != nil || name != tc.name || value != tc.value {
				t.Fatalf("splitHeader(%q) = %q, %q, %v; want %q, %q", tc.in, name, value, err, tc.name, tc.value)
			}
		})
	}
}
