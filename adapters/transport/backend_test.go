package transport

import (
	"net/url"
	"testing"

	"github.com/stellaops/stella/domain"
)

func TestJoin(t *testing.T) {
	base := &url.URL{Scheme: "https", Host: "task-runner.example.com", Path: "/base/"}
	for _, tc := range []struct {
		path, want, wantErr string
	}{
		{"/api/v1/jobs?state=open", "https://task-runner.example.com/base/api/v1/jobs?state=open", ""},
		{"api/v1/jobs", "https://task-runner.example.com/base/api/v1/jobs", ""},
		{"/a%20b", "https://task-runner.example.com/base/a%20b", ""},
		{"https://evil.example.com/x", "", `"https://evil.example.com/x" is not a path`},
		{"//user:pw@evil.example.com/x?k=v", "", `"//user:xxxxx@evil.example.com/x?…" is not a path`},
		{"/api/%zz?api_key=k", "", `"/api/%zz?…" is not a valid path: a % not followed by two hex digits (write a literal % as %25)`},
		{"/api/%2", "", `"/api/%2" is not a valid path: a % not followed by two hex digits (write a literal % as %25)`},
		{"/api/\x7f", "", `"/api/\u007f" is not a valid path: a control character`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			u, err := join(base, tc.path, "hint")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || domain.KindOf(err) != domain.KindUsage {
					t.Fatalf("join(%q) = %v, want usage error %q", tc.path, err, tc.wantErr)
				}
				return
			}
			if err != nil || u.String() != tc.want {
				t.Fatalf("join(%q) = %v, %v; want %s", tc.path, u, err, tc.want)
			}
		})
	}
}
