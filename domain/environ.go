package domain

import "strings"

// secretEnv names the variables that hold stella's secrets, or say where
// they are: a program stella starts (a browser that outlives it, the jq
// helper) has no business with any of them.
var secretEnv = map[string]bool{
	"STELLA_CLIENT_SECRET": true, "STELLA_CLIENT_SECRET_FILE": true, "STELLA_PASSWORD": true, "STELLA_PASSWORD_FILE": true,
	"STELLA_CACHE_PASSPHRASE": true, "STELLA_CACHE_PASSPHRASE_FILE": true,
	// The fleet cache's password, and its URL, which may carry one.
	"STELLA_TOKEN_CACHE_PASSWORD": true, "STELLA_TOKEN_CACHE_PASSWORD_FILE": true, "STELLA_TOKEN_CACHE_URL": true,
}

// ChildEnviron is the environment a started program gets (SPEC §6):
// environ (stella's own, "NAME=value") without the secret variables and
// without any variable whose value is one of the configured secrets,
// whatever its name.
func ChildEnviron(environ []string, secrets []Secret) []string {
	var out []string
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if secretEnv[strings.ToUpper(name)] || isSecretValue(value, secrets) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func isSecretValue(v string, secrets []Secret) bool {
	if v == "" {
		return false
	}
	for _, s := range secrets {
		if !s.IsZero() && s.Equal(NewSecret(v)) {
			return true
		}
	}
	return false
}
