package domain

import (
	"encoding/json"
)

// OAuthError is an RFC 6749 §5.2 error response (also used by RFC 7009,
// RFC 8628 and RFC 9449 endpoints).
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
}

// maxErrorText bounds what of a server's text we repeat to the user.
const maxErrorText = 300

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
		e.Description = Printable(d, maxErrorText)
	}
	if u, ok := raw.URI.(string); ok {
		e.URI = Printable(u, maxErrorText)
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
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}
