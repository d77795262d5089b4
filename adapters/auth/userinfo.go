package auth

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/stellaops/stella/domain"
)

// UserInfo asks the userinfo endpoint who the token belongs to. The token
// goes in its own scheme, with a DPoP proof when it is DPoP-bound.
func (a *Authority) UserInfo(ctx context.Context, cred domain.Credential) (map[string]any, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return nil, err
	}
	if m.UserinfoEndpoint == "" {
		return nil, domain.E(domain.KindServer, "the Authority has no userinfo endpoint", "")
	}
	resp, body, err := a.getJSON(ctx, a.clientFor(cred), m.UserinfoEndpoint, func(err error) error {
		return domain.Wrap(domain.KindProtocol, err, "bad userinfo endpoint", "")
	})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, domain.E(domain.KindUnauthorized, "the userinfo endpoint rejected the token", "")
	case resp.StatusCode == http.StatusForbidden:
		return nil, domain.E(domain.KindForbidden, "the token lacks the openid scope that userinfo requires", "")
	case resp.StatusCode != http.StatusOK:
		return nil, a.endpointErr("userinfo", resp.StatusCode, body)
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil || info == nil {
		return nil, domain.E(domain.KindProtocol, "the userinfo answer is not a JSON object", "")
	}
	return info, nil
}
