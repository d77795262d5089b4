package rules

import "testing"

func TestMatchUnit(t *testing.T) {
	for _, c := range []struct {
		rel, pattern, unit string
		ok                 bool
	}{
		{"domain", "domain/...", "domain", true},
		{"domain/internal/x", "domain/...", "domain", true},
		{"domainx", "domain/...", "", false},
		{"domain", "domain", "domain", true},
		{"domain/x", "domain", "", false},
		{"adapters/auth", "adapters/*/...", "adapters/auth", true},
		{"adapters/auth/internal/wire", "adapters/*/...", "adapters/auth", true},
		{"adapters", "adapters/*/...", "", false},
		{"cmd/stella", "cmd/stella/...", "cmd/stella", true},
		{"tools/devauthority/authority", "tools/...", "tools", true},
	} {
		unit, ok := matchUnit(c.rel, c.pattern)
		if unit != c.unit || ok != c.ok {
			t.Errorf("matchUnit(%q, %q) = %q, %v; want %q, %v", c.rel, c.pattern, unit, ok, c.unit, c.ok)
		}
	}
}

func TestCredentialName(t *testing.T) {
	a := &audit{cfg: Default(), rel: "adapters/config"}
	for name, want := range map[string]bool{
		"Password": true, "password": true, "UserPassword": true, "Passwd": true, "Secret": true, "ClientSecret": true,
		"AccessToken": true, "RefreshToken": true, "IDToken": true, "IdToken": true, "Token": true, "Passphrase": true,
		"PrivateKey": true, "CodeVerifier": true, "Code": true, "AuthCode": true, "DeviceCode": true, "ACCESS_TOKEN": true,
		// Whole name or suffix, never a substring; allow-listed names.
		"TokenType": false, "SecretFile": false, "ClientSecretFile": false, "TokenCacheDirectory": false,
		"ErrorCode": false, "Passcode": false, "UserCode": false, "Scope": false, "TokenEndpoint": false,
	} {
		if got := a.credentialName("Options", name); got != want {
			t.Errorf("credentialName(%q) = %v, want %v", name, got, want)
		}
	}
	// A qualified allow-list entry names one field of one type.
	d := &audit{cfg: Default(), rel: "domain"}
	if d.credentialName("OAuthError", "Code") || !d.credentialName("Callback", "Code") {
		t.Error("domain.OAuthError.Code must be allowed and domain.Callback.Code reported")
	}
}

func TestIsStd(t *testing.T) {
	for p, want := range map[string]bool{
		"net/http": true, "C": true, "golang.org/x/oauth2": false, "github.com/stellaops/stella/domain": false,
	} {
		if isStd(p) != want {
			t.Errorf("isStd(%q) = %v", p, !want)
		}
	}
}
