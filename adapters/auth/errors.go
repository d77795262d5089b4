package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// tokenErr gives a token endpoint failure its kind (SPEC §4) and advice.
func (a *Authority) tokenErr(err error, grant string, req ports.TokenRequest) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// Our own kinded errors pass through; raw network and context
		// errors are named here, as the Authority's, before a caller that
		// only sees "deadline exceeded" blames someone else.
		var de *domain.Error
		if errors.As(err, &de) {
			return de // without net/http's `Post "URL":` wrapper
		}
		var ue *url.Error
		if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
			return a.netErr(err)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		// x/oauth2 could not parse the answer: not JSON, no access_token.
		return domain.Wrap(domain.KindProtocol, errors.New(domain.Printable(err.Error(), 200)), "malformed token response from the Authority at "+a.host(),
			"Check that the Authority URL points at an OAuth 2 Authority.")
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	oe, isOAuth := domain.ParseOAuthError(re.Body)
	where := "the Authority at " + a.host()
	if status >= 500 {
		msg := fmt.Sprintf("%s failed (%d %s)", where, status, http.StatusText(status))
		if isOAuth {
			msg += ": " + oe.String()
		}
		return domain.E(domain.KindServer, msg, "The Authority failed; try again later.")
	}
	if status >= 300 && status < 400 {
		return domain.E(domain.KindProtocol, fmt.Sprintf("%s redirected the token request (%d); token requests are never followed elsewhere", where, status),
			"Check the Authority URL: the token endpoint must answer directly.")
	}
	if !isOAuth {
		return domain.E(domain.KindProtocol, fmt.Sprintf("%s answered the token request with %d and no OAuth error", where, status),
			"Check that the Authority URL points at an OAuth 2 Authority.")
	}
	login := a.settings.LoginCommand()
	if grant == domain.GrantRefreshToken && refreshTokenRefused(oe, req) {
		// RFC 6749 §5.2 says invalid_grant, but Authorities choose other
		// codes for a dead refresh token (Dex: invalid_request "Refresh
		// token is invalid or has already been claimed"). Whatever the
		// code, a refusal of the refresh token ends the session: exit 12
		// with the command that signs in again.
		return domain.E(domain.KindLoginRequired, "the Authority no longer accepts the session ("+oe.String()+")",
			"Sign in again: `"+login+"`.")
	}
	switch oe.Code {
	case "server_error", "temporarily_unavailable":
		return domain.E(domain.KindServer, fmt.Sprintf("%s could not answer the token request (%s)", where, oe.String()),
			"The Authority failed; try again later.")
	case "authorization_pending":
		return fmt.Errorf("%s: %w", where, ports.ErrAuthorizationPending)
	case "slow_down":
		return fmt.Errorf("%s: %w", where, ports.ErrSlowDown)
	case "expired_token":
		return domain.E(domain.KindTimeout, "the device code expired before the sign-in was approved",
			"Run `"+login+" --headless` again and enter the new code in time.")
	case "invalid_client":
		return domain.E(domain.KindUnauthorized, "the Authority rejected the client credentials ("+oe.String()+")",
			"Check the client id ("+a.settings.ClientID+") and the client secret in "+secretSourceOr(a.settings)+".")
	case "invalid_grant":
		if grant == domain.GrantPassword {
			return domain.E(domain.KindUnauthorized, "the Authority rejected the username or password ("+oe.String()+")",
				"Check STELLA_USERNAME and STELLA_PASSWORD / STELLA_PASSWORD_FILE.")
		}
		return domain.E(domain.KindLoginRequired, "the Authority no longer accepts the session ("+oe.String()+")",
			"Sign in again: `"+login+"`.")
	case "invalid_scope":
		return domain.E(domain.KindForbidden, fmt.Sprintf("the Authority refused the scopes %q for client %s (%s)", req.Scopes.String(), a.settings.ClientID, oe.String()),
			"Ask only for scopes this client is allowed (--scope / STELLA_SCOPE / the profile's Scope).")
	case "unauthorized_client", "unsupported_grant_type":
		return domain.E(domain.KindUnauthorized, fmt.Sprintf("client %s may not use the %s grant (%s)", a.settings.ClientID, grant, oe.String()),
			"Use a sign-in method the Authority allows for this client, or another client id.")
	case "access_denied":
		if grant == domain.GrantDeviceCode {
			return domain.E(domain.KindAccessDenied, "the sign-in was denied on the verification page",
				"Run `"+login+" --headless` again and approve the request if you meant to.")
		}
		return domain.E(domain.KindAccessDenied, "the Authority denied the request ("+oe.String()+")", "Ask the Authority's operators for access.")
	}
	return domain.E(domain.KindProtocol, fmt.Sprintf("%s refused the token request: %s", where, oe.String()),
		"Check the client's configuration at the Authority.")
}

// refreshTokenRefused says whether a refresh request's error refuses the
// refresh token itself. Not so: client-authentication errors (their own
// exit code and advice), a server failure, a narrowed scope the session
// does not hold (a down-scoped refresh), and DPoP proof or nonce refusals,
// which say nothing about the token and must not end the session.
func refreshTokenRefused(oe domain.OAuthError, req ports.TokenRequest) bool {
	switch {
	case oe.ClientAuthError(), oe.Kind() == domain.KindServer:
		return false
	case oe.Code == "invalid_scope" && len(req.Scopes) > 0:
		return false
	case oe.Code == "use_dpop_nonce", oe.Code == "invalid_dpop_proof":
		return false
	}
	return true
}

// secretSourceOr names the client secret's source for a hint: the one in
// use, or where one could be set.
func secretSourceOr(s domain.Settings) string {
	if src := s.ClientSecretSource(); src != "" {
		return src
	}
	return "STELLA_CLIENT_SECRET_FILE or the profile's ClientSecretFile"
}

// endpointErr maps a failed answer of a non-token endpoint.
func (a *Authority) endpointErr(what string, status int, body []byte) error {
	oe, ok := domain.ParseOAuthError(body)
	detail := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if ok {
		detail += ": " + oe.String()
	}
	switch {
	// A transient failure is one whether it comes as a 5xx or, as some
	// Authorities send it, as a 400 with server_error or
	// temporarily_unavailable: the token endpoint already reads it so.
	case status >= 500 || (ok && (oe.Code == "server_error" || oe.Code == "temporarily_unavailable")):
		return domain.E(domain.KindServer, fmt.Sprintf("the Authority's %s endpoint failed (%s)", what, detail), "Try again later.")
	case status == http.StatusUnauthorized || (ok && oe.Code == "invalid_client"):
		return domain.E(domain.KindUnauthorized, fmt.Sprintf("the Authority's %s endpoint rejected the client (%s)", what, detail),
			"Check the client id and secret.")
	}
	return domain.E(domain.KindProtocol, fmt.Sprintf("the Authority's %s endpoint refused the request (%s)", what, detail), "")
}
