package jqrun

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestFilter(t *testing.T) {
	doc := []byte(`{"jobs":[{"id":"job-1","n":12345678901234},{"id":"job-2","n":1.5}]}`)
	cases := []struct {
		expr   string
		pretty bool
		want   string
		status Status
	}{
		{".jobs[].id", false, "job-1\njob-2\n", 0},
		{".jobs[0].n", false, "12345678901234\n", 0},
		{".jobs[1]", false, `{"id":"job-2","n":1.5}` + "\n", 0},
		{".jobs | length", true, "2\n", 0},
		{".jobs[0] | {id}", true, "{\n  \"id\": \"job-1\"\n}\n", 0},
		{".jobs[", false, "", StatusSyntax},
		{"$undefined", false, "", StatusUncompiled},
		{".jobs.x", false, "", StatusRuntime},
		{"empty", false, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := Compile(tc.expr)
			var out bytes.Buffer
			if err == nil {
				err = f.Run(context.Background(), doc, &out, tc.pretty)
			}
			if got := statusOf(err); got != tc.status {
				t.Fatalf("err %v: status %d, want %d", err, got, tc.status)
			}
			if tc.status == 0 && out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	f, _ := Compile(".")
	if err := f.Run(context.Background(), []byte("<html>"), &bytes.Buffer{}, false); statusOf(err) != StatusNotJSON {
		t.Fatalf("non-JSON: %v", err)
	}
}

func statusOf(err error) Status {
	var f *Fault
	if errors.As(err, &f) {
		return f.Status
	}
	if err != nil {
		return -1
	}
	return 0
}
