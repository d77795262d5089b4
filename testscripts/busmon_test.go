package testscripts

import (
	"slices"
	"strings"
	"testing"
)

func TestOwnCalls(t *testing.T) {
	const raw = `method call time=1.0 sender=:1.31 -> destination=org.freedesktop.secrets serial=2 path=/org/freedesktop/secrets; interface=org.freedesktop.Secret.Service; member=SearchItems
   array [
      dict entry(
         string "service"
         string "stella"
      )
      dict entry(
         string "username"
         string "other-scenario"
      )
   ]
method call time=1.1 sender=:1.32 -> destination=org.freedesktop.secrets serial=2 path=/org/freedesktop/secrets; interface=org.freedesktop.Secret.Service; member=SearchItems
   array [
      dict entry(
         string "username"
         string "ours"
      )
   ]
method call time=1.2 sender=:1.31 -> destination=org.freedesktop.secrets serial=3 path=/org/freedesktop/secrets; interface=org.freedesktop.Secret.Service; member=OpenSession
   string "plain"
method call time=1.3 sender=:1.32 -> destination=org.freedesktop.secrets serial=4 path=/org/freedesktop/secrets/collection/login/2; interface=org.freedesktop.Secret.Item; member=GetSecret
method call time=1.4 sender=:1.40 -> destination=org.freedesktop.secrets serial=2 path=/org/freedesktop/secrets; interface=org.freedesktop.DBus.Peer; member=Ping
`
	for _, tc := range []struct {
		name     string
		accounts []string
		want     []string // members, in order
	}{
		{"only the connection that named our account", []string{"ours"}, []string{"SearchItems", "GetSecret"}},
		{"a prefix of an account is not it", []string{"our"}, nil},
		{"both scenarios' accounts", []string{"ours", "other-scenario"}, []string{"SearchItems", "SearchItems", "OpenSession", "GetSecret"}},
		{"no account known", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, line := range ownCalls(raw, tc.accounts) {
				_, member, _ := strings.Cut(line, "member=")
				got = append(got, member)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ownCalls = %q, want %q", got, tc.want)
			}
		})
	}
}
