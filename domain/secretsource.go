package domain

// ClientSecretSource names where the client secret in use came from, in
// the words a user looks for: the variable (STELLA_CLIENT_SECRET or
// STELLA_CLIENT_SECRET_FILE), or the profile key with its file and line.
// A hint that names another source than the one in use sends the user to
// fix a setting that is not the problem. "" when no secret is configured.
func (s Settings) ClientSecretSource() string {
	if !s.HasClientSecret() {
		return ""
	}
	key := "ClientSecret"
	if s.ClientSecretFile != "" {
		key = "ClientSecretFile"
	}
	for _, e := range s.Effective {
		if e.Key != "Authority.ClientSecret" {
			continue
		}
		switch e.Source.Kind {
		case SourceEnv:
			return e.Source.Detail
		case SourceProfile, SourceConfig:
			if e.Source.Detail != "" {
				return key + " in " + e.Source.Detail
			}
		}
		break
	}
	return "the configured " + key
}
