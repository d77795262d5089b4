package schema

import (
	"strings"
	"testing"
)

// The checker itself must fail where a script would break.
func TestCheck(t *testing.T) {
	cases := []struct {
		name, doc, wantErr string
	}{
		{"version", `{"schemaVersion":1,"version":"dev","os":"linux","arch":"amd64"}`, ""},
		{"version", `{"schemaVersion":1,"version":"dev","os":"linux","arch":"amd64"}` + "\n" + `{"schemaVersion":1,"error":{"kind":"usage","exitCode":2,"message":"m","hint":"h"}}`, "more than one"},
		{"version", `{"schemaVersion":1,"version":"dev","os":"linux"}`, "arch"},
		{"version", `{"schemaVersion":1,"version":"dev","os":"linux","arch":"amd64","surprise":1}`, "surprise"},
		{"status", `{"schemaVersion":1,"error":{"kind":"login_required","exitCode":12,"message":"m","hint":"h"}}`, ""},
		{"status", `{"schemaVersion":1,"error":{"kind":"nope","exitCode":12,"message":"m","hint":"h"}}`, "/error/kind"},
		{"status", `not json`, "not a JSON document"},
		{"nosuch", `{"schemaVersion":1}`, "no schema"},
	}
	for _, c := range cases {
		err := Check(c.name, []byte(c.doc))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s %s: %v", c.name, c.doc, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s %s: got %v, want an error about %q", c.name, c.doc, err, c.wantErr)
		}
	}
}
