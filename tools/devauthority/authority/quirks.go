package authority

import (
	"encoding/base64"
	"slices"
	"sort"
	"strings"
)

// quirks are behaviours of other Authorities that RFC 6749 and OIDC allow,
// or that real servers show although they should not, for tests that a
// client copes with them (-quirks a,b). Each is what a named server does.
var quirks = map[string]string{
	// Dex answers a refresh token it no longer accepts with invalid_request
	// "Refresh token is invalid or has already been claimed by another
	// client", where RFC 6749 §5.2 says invalid_grant.
	"refresh-invalid-request": "a dead refresh token is refused with invalid_request (Dex)",
	// Dex's sub is a base64-encoded protobuf of user id and connector, and
	// its ID tokens carry no name or preferred_username for many connectors.
	"opaque-sub": "the user's sub is an opaque base64 blob and no name claim is sent, only email (Dex)",
	// atproto's PDS spent the refresh token before it checked the DPoP
	// nonce: a refresh request refused with use_dpop_nonce had already
	// rotated the token, so the client's retry was a reuse.
	"nonce-after-refresh": "a refresh request's refresh token is consumed before the DPoP nonce is checked (atproto PDS)",
	// Many deployments of Dex and Hydra offer no device flow.
	"no-device-endpoint": "no device_authorization_endpoint in discovery, and the endpoint refuses (Dex, Hydra)",
}

func quirkList() string {
	names := make([]string, 0, len(quirks))
	for k := range quirks {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (s *Server) quirk(name string) bool { return slices.Contains(s.cfg.Quirks, name) }

// subjectOf is the sub the server publishes for a user: Dex-style opaque
// under opaque-sub.
func (s *Server) subjectOf(user string) string {
	if !s.quirk("opaque-sub") {
		return user
	}
	// Dex: base64(protobuf{1: user id, 2: connector id}).
	raw := append([]byte{0x0a, byte(len(user))}, user...)
	raw = append(raw, 0x12, 5)
	raw = append(raw, "local"...)
	return base64.RawStdEncoding.EncodeToString(raw)
}
