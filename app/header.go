package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// HeaderInput is the request another tool is about to send.
type HeaderInput struct {
	Method string
	URL    string
}

// HeaderOutput is the headers that present the session's token on that
// request, in the order they are sent.
type HeaderOutput struct {
	Headers []ports.CredentialHeader
}

// Header is `stella auth header`: ready-made credential headers for
// another tool (curl) to call a backend with (SPEC §3.5).
type Header struct {
	tokens ports.TokenSource
	creds  ports.CredentialHeaders
}

// NewHeader builds the use case; it does no I/O.
func NewHeader(tokens ports.TokenSource, creds ports.CredentialHeaders) *Header {
	return &Header{tokens: tokens, creds: creds}
}

// Do checks the URL before a token is touched — the session's token goes
// only to a server stella would call itself (https, or http on loopback) —
// then builds the headers for exactly this method and URL: a DPoP proof
// is bound to both.
func (u *Header) Do(ctx context.Context, in HeaderInput) (HeaderOutput, error) {
	target, err := url.Parse(in.URL)
	if err != nil {
		// Not err itself: url.Parse's error repeats the URL, password included.
		return HeaderOutput{}, domain.E(domain.KindUsage, "--url \""+domain.RedactURL(in.URL)+"\" is not a URL",
			"Give the full URL of the request, such as https://task-runner.example.com/api/v1/jobs.")
	}
	if _, err := domain.ValidateServerURL("--url", target.Scheme+"://"+target.Host+target.EscapedPath()); err != nil {
		return HeaderOutput{}, err
	}
	cred, err := u.tokens.Credential(ctx)
	if err != nil {
		return HeaderOutput{}, err
	}
	hs, err := u.creds.Headers(cred, strings.ToUpper(in.Method), in.URL)
	if err != nil {
		return HeaderOutput{}, err
	}
	return HeaderOutput{Headers: hs}, nil
}
