package ports

import (
	"net/http"

	"github.com/stellaops/stella/domain"
)

// CredentialHeader is one request header that presents a credential; its
// value holds the token, so it is a secret.
type CredentialHeader struct {
	Name  string
	Value domain.Secret
}

// CredentialHeaders is the one place request credentials are built — for
// the backend transport, the stream, userinfo, token requests and `auth
// header` alike (x/oauth2's Token.SetAuthHeader, with DPoP): Authorization
// in the token's scheme and, for a DPoP-bound token, a proof made for
// exactly this method and URL that carries the token's hash (ath) and the
// latest nonce the process knows for that server. A credential with a DPoP
// key and no access token (a token request) gets the proof alone.
type CredentialHeaders interface {
	// Headers are the headers for one request, in the order they are sent.
	Headers(cred domain.Credential, method, url string) ([]CredentialHeader, error)
	// Transport sends every request with cred's headers (on a copy: the
	// request is not modified), remembers each server's DPoP-Nonce, and
	// answers a use_dpop_nonce challenge once per request, never in a loop.
	Transport(base http.RoundTripper, cred domain.Credential) http.RoundTripper
}
