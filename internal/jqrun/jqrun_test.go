package jq

import (
	"bytes"
	"context"
	"testing"

	"github.com/stellaops/stella/domain"
)

func TestFilter(t *testing.T) {
	doc := []byte(`{"jobs":[{"id":"job-1","n":12345678901234},{"id":"job-2","n":1.5}]}`)
	cases := []struct {
		expr   string
		pretty bool
		want   string
		kind   domain.Kind
	}{
		{".jobs[].id", false, "job-1\njob-2\n", 0},
		{".jobs[0].n", false, "12345678901234\n", 0},
		{".jobs[1]", false, `{"id":"job-2","n":1.5}` + "\n", 0},
		{".jobs | length", true, "2\n", 0},
		{".jobs[0] | {id}", true, "{\n  \"id\": \"job-1\"\n}\n", 0},
		{".jobs[", false, "", domain.KindUsage},
		{".jobs.x", false, "", domain.KindUsage},
		{"empty", false, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := Compile(tc.expr)
			var out bytes.Buffer
			if err == nil {
				err = f.Run(context.Background(), doc, &out, tc.pretty)
			}
			if domain.KindOf(err) != tc.kind && !(tc.kind == 0 && err == nil) {
				t.Fatalf("err %v, want kind %v", err, tc.kind)
			}
			if tc.kind == 0 && out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	f, _ := Compile(".")
	if err := f.Run(context.Background(), []byte("<html>"), &bytes.Buffer{}, false); domain.KindOf(err) != domain.KindProtocol {
		t.Fatalf("non-JSON: %v", err)
	}
}
