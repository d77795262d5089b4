package app

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// oneCredential is a token source holding one credential, or failing.
type oneCredential struct {
	cred  domain.Credential
	err   error
	asked int
}

func (o *oneCredential) Credential(context.Context) (domain.Credential, error) {
	o.asked++
	return o.cred, o.err
}

func (o *oneCredential) Renew(context.Context, domain.Credential) (domain.Credential, error) {
	return domain.Credential{}, errors.New("not renewed here")
}

// recordingHeaders records what it was asked for and answers fixed headers.
type recordingHeaders struct {
	cred        domain.Credential
	method, url string
	answer      []ports.CredentialHeader
	err         error
}

func (r *recordingHeaders) Headers(cred domain.Credential, method, url string) ([]ports.CredentialHeader, error) {
	r.cred, r.method, r.url = cred, method, url
	return r.answer, r.err
}

func (r *recordingHeaders) Transport(base http.RoundTripper, _ domain.Credential) http.RoundTripper {
	return base
}

func TestHeader(t *testing.T) {
	dpopCred := domain.Credential{Access: domain.Token{Value: domain.NewSecret("at-1"), Type: domain.TokenTypeDPoP}, DPoPKey: domain.NewSecret("key-1")}
	answer := []ports.CredentialHeader{{Name: "Authorization", Value: domain.NewSecret("DPoP at-1")}, {Name: "DPoP", Value: domain.NewSecret("proof")}}
	refused := domain.E(domain.KindProtocol, "the session's token type \"MAC\" is not supported", "")
	for _, tc := range []struct {
		name      string
		in        HeaderInput
		tokenErr  error
		buildErr  error
		wantErr   bool
		wantKind  domain.Kind
		wantAsked int // token requests: none for a URL that is refused
	}{
		{"headers for exactly this request", HeaderInput{Method: "post", URL: "https://backend.example.com/api/v1/jobs?page=2"}, nil, nil, false, 0, 1},
		{"http on loopback", HeaderInput{Method: "GET", URL: "http://127.0.0.1:8080/api/v1/me"}, nil, nil, false, 0, 1},
		{"not a URL", HeaderInput{Method: "GET", URL: "http://[::1"}, nil, nil, true, domain.KindUsage, 0},
		{"a relative URL", HeaderInput{Method: "GET", URL: "/api/v1/me"}, nil, nil, true, domain.KindUsage, 0},
		{"plain http to another host", HeaderInput{Method: "GET", URL: "http://backend.example.com/api/v1/me"}, nil, nil, true, domain.KindUsage, 0},
		{"not signed in", HeaderInput{Method: "GET", URL: "https://backend.example.com/"}, domain.E(domain.KindLoginRequired, "not signed in", ""), nil, true, domain.KindLoginRequired, 1},
		{"headers refused", HeaderInput{Method: "GET", URL: "https://backend.example.com/"}, nil, refused, true, domain.KindProtocol, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens := &oneCredential{cred: dpopCred, err: tc.tokenErr}
			creds := &recordingHeaders{answer: answer, err: tc.buildErr}
			out, err := NewHeader(tokens, creds).Do(context.Background(), tc.in)
			if tokens.asked != tc.wantAsked {
				t.Fatalf("token asked %d times, want %d", tokens.asked, tc.wantAsked)
			}
			if tc.wantErr {
				if domain.KindOf(err) != tc.wantKind {
					t.Fatalf("err %v (kind %v), want kind %v", err, domain.KindOf(err), tc.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if creds.cred.Access.Value.Reveal() != "at-1" || creds.url != tc.in.URL || creds.method != map[string]string{"post": "POST", "GET": "GET"}[tc.in.Method] {
				t.Fatalf("built for %s %s with %q", creds.method, creds.url, creds.cred.Access.Value.Reveal())
			}
			if len(out.Headers) != 2 || out.Headers[0].Name != "Authorization" || out.Headers[1].Value.Reveal() != "proof" {
				t.Fatalf("headers %+v", out.Headers)
			}
		})
	}
}
