package domain

import (
	"strings"
	"testing"
)

func TestParseCacheURL(t *testing.T) {
	for _, tc := range []struct {
		in, want, mode, err string
		pw                  string
	}{
		{in: "redis://127.0.0.1:6379", want: "redis://127.0.0.1:6379", mode: "standalone"},
		{in: "redis://cache.example.com", want: "redis://cache.example.com:6379", mode: "standalone"},
		{in: "rediss://ci:pw@cache.example.com:6380/2", want: "rediss://ci@cache.example.com:6380/2", mode: "standalone", pw: "pw"},
		{in: "redis://:only-pw@h:1", want: "redis://h:1", mode: "standalone", pw: "only-pw"},
		{in: "redis://h:1?addr=h2:2&addr=h3:3", want: "redis://h:1?addr=h2%3A2&addr=h3%3A3", mode: "cluster"},
		{in: "redis://h:1?cluster=true", want: "redis://h:1?cluster=true", mode: "cluster"},
		{in: "redis://s1:26379?addr=s2:26379&master_name=main", want: "redis://s1:26379?addr=s2%3A26379&master_name=main", mode: "sentinel"},
		{in: "redis://[::1]:7000", want: "redis://[::1]:7000", mode: "standalone"},
		{in: "http://h:1", err: "is not a redis:// or rediss:// URL"},
		{in: "h:1", err: "is not a redis:// or rediss:// URL"},
		{in: "redis://:pw@", err: "is not a redis"},
		{in: "redis://h:0", err: "has no valid port"},
		{in: "redis://h:70000", err: "has no valid port"},
		{in: "redis://h:1/x", err: "names no database number"},
		{in: "redis://h:1?db=2", err: "unknown parameter db"},
		{in: "redis://h:1?addr=h2:bad", err: "has no valid port"},
		{in: "redis://h:1/3?cluster=true", err: "Redis Cluster does not have"},
		{in: "redis://user:secret-pw@h:1?x=1", err: `"redis://user:xxxxx@h:1?x=xxxxx"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, pw, err := ParseCacheURL(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || KindOf(err) != KindUsage {
					t.Fatalf("err = %v, want usage error containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret-pw") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if c.Mode() != tc.mode {
				t.Errorf("Mode() = %q, want %q", c.Mode(), tc.mode)
			}
			if pw.Reveal() != tc.pw {
				t.Errorf("password = %q, want %q", pw.Reveal(), tc.pw)
			}
			// What the settings keep parses again to the same thing.
			again, pw2, err := ParseCacheURL(c.String())
			if err != nil || again.String() != c.String() || !pw2.IsZero() {
				t.Errorf("round trip: %v %q %v", err, again.String(), pw2.IsZero())
			}
		})
	}
}

func TestRedactCacheURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://u:pw@h:1/0":  "redis://u:xxxxx@h:1/0",
		"redis://u@h:1":       "redis://u@h:1",
		"redis://h:1":         "redis://h:1",
		"%zz://u:pw@h:1":      "[redacted]@h:1",
		"redis://u:p@w@h:1/0": "redis://u:xxxxx@h:1/0",
		"redis://h:1/0?addr=h2:2&master_name=m&sentinel_password=pw": "redis://h:1/0?addr=h2%3A2&master_name=m&sentinel_password=xxxxx",
		"redis://u:pw@h:%zz?sentinel_password=pw":                    "[redacted]@h:%zz?…",
	} {
		if got := RedactCacheURL(in); got != want {
			t.Errorf("RedactCacheURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/api/v1/jobs", "/api/v1/jobs"},
		{"/api/v1/jobs?api_key=k", "/api/v1/jobs?…"},
		{"/api/v1/jobs?", "/api/v1/jobs"},
		{"/api/v1/jobs#part", "/api/v1/jobs#…"},
		{"/api/v1/jobs?#part", "/api/v1/jobs#…"},
		{"https://TOKEN@host/x", "https://xxxxx@host/x"},
		{"https://a.example.com/?client_secret=s#f", "https://a.example.com/?…#…"},
		{"//user:pw@evil.example.com/x?k=v", "//user:xxxxx@evil.example.com/x?…"},
		{"//user:pw@h:%zz/x", "[redacted]@h:%zz/x"},
		{"/api/\x1b[2J", `/api/\u001b[2J`}, // a control, shown as an escape
		{"/api/\u202e", "/api/%E2%80%AE"},  // url.URL.String escapes it
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseCacheURL(f *testing.F) {
	for _, s := range []string{"redis://h:1", "rediss://u:p@h:2/3?addr=a:1&master_name=m", "redis://[::1]:1?cluster=true", "redis://%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, pw, err := ParseCacheURL(s)
		if err != nil {
			return
		}
		if !pw.IsZero() && strings.Contains(c.String(), ":"+pw.Reveal()+"@") {
			t.Fatalf("String() keeps the password: %q", c.String())
		}
		if _, _, err := ParseCacheURL(c.String()); err != nil {
			t.Fatalf("String() %q does not parse again: %v", c.String(), err)
		}
	})
}
