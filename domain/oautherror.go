package domain

import (
	"encoding/json"
)

// OAuthError is an RFC 6749 §5.2 error response (also used by RFC 7009,
// RFC 8628 and RFC 9449 endpoints).
// Code is checked against RFC 6749's ABNF (printable ASCII, no quote or
// backslash), so it is stella's to print; the rest is the server's text.
type OAuthError struct {
	Code        string    `json:"error"`
	Description Untrusted `json:"error_description,omitempty"`
	URI         Untrusted `json:"error_uri,omitempty"`
}

// ParseOAuthError reads an error response body. It reports false when the
// body is not a JSON object with a usable "error" member, so callers can
// fall back to describing the HTTP status.
func ParseOAuthError(body []byte) (OAuthError, bool) {
	var raw struct {
		Code        any `json:"error"`
		Description any `json:"error_description"`
		URI         any `json:"error_uri"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return OAuthError{}, false
	}
	code, ok := raw.Code.(string)
	if !ok || !validErrorCode(code) {
		return OAuthError{}, false
	}
	e := OAuthError{Code: code}
	if d, ok := raw.Description.(string); ok {
		e.Description = Untrusted(d)
	}
	if u, ok := raw.URI.(string); ok {
		e.URI = Untrusted(u)
	}
	return e, true
}

// validErrorCode follows RFC 6749's error ABNF: %x20-21 / %x23-5B / %x5D-7E,
// and refuses absurd lengths.
func validErrorCode(c string) bool {
	if c == "" || len(c) > 128 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if b < 0x20 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

func (e OAuthError) String() string {
	d := e.Description.String()
	if d == "" {
		return e.Code
	}
	return e.Code + ": " + d
}

// oauthErrorKinds is the one table from an OAuth error code to a failure
// kind, for token-endpoint errors (RFC 6749 §5.2, RFC 8628 §3.5) and
// authorization-response errors at the redirect URI (RFC 6749 §4.1.2.1)
// alike: a scope refused in the browser is the same refusal as a scope
// refused at the token endpoint. Codes not listed are protocol violations.
var oauthErrorKinds = map[string]Kind{
	"access_denied":           KindAccessDenied,
	"invalid_scope":           KindForbidden,
	"invalid_client":          KindUnauthorized,
	"unauthorized_client":     KindUnauthorized,
	"unsupported_grant_type":  KindUnauthorized,
	"invalid_grant":           KindLoginRequired,
	"server_error":            KindServer,
	"temporarily_unavailable": KindServer,
	"expired_token":           KindTimeout,
}

// Kind is the failure kind of the error code (SPEC §3.7, §4).
func (e OAuthError) Kind() Kind {
	if k, ok := oauthErrorKinds[e.Code]; ok {
		return k
	}
	return KindProtocol
}

// ClientAuthError reports whether the code says the client itself was
// refused (its identity or its right to the grant), rather than the grant
// it presented.
func (e OAuthError) ClientAuthError() bool {
	return e.Code == "invalid_client" || e.Code == "unauthorized_client"
}
