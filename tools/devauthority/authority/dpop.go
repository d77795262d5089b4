package authority

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// proofWindow is how far a proof's iat may be from the server's clock.
const proofWindow = 60 * time.Second

// dpopState is the server side of RFC 9449: the jti replay cache and the
// nonces the server hands out.
type dpopState struct {
	mu       sync.Mutex
	seen     map[string]time.Time
	nonce    string
	previous string
	issued   time.Time
}

func newDPoPState() *dpopState { return &dpopState{seen: map[string]time.Time{}} }

// currentNonce returns the nonce to hand out, rotating it every rotate.
func (d *dpopState) currentNonce(now time.Time, rotate time.Duration) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nonce == "" || (rotate > 0 && now.Sub(d.issued) >= rotate) {
		d.previous, d.nonce, d.issued = d.nonce, randomString(16), now
	}
	return d.nonce
}

func (d *dpopState) nonceOK(n string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return n != "" && (n == d.nonce || n == d.previous)
}

// replayed records a jti and reports whether it was seen within the window.
func (d *dpopState) replayed(jti string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, t := range d.seen {
		if now.Sub(t) > 2*proofWindow {
			delete(d.seen, k)
		}
	}
	if _, ok := d.seen[jti]; ok {
		return true
	}
	d.seen[jti] = now
	return false
}

// proofError says why a proof was refused; nonce means the client must
// retry with the server's nonce.
type proofError struct {
	msg   string
	nonce bool
}

func (e *proofError) Error() string { return e.msg }

func bad(format string, args ...any) error { return &proofError{msg: fmt.Sprintf(format, args...)} }

// checkProof validates a DPoP proof as RFC 9449 §4.3 lists: one JWS, typ
// dpop+jwt, an allowed asymmetric alg, a public-only embedded jwk that
// verifies the signature, htm and htu of this request, iat within the
// window, a fresh jti, the nonce when one is required, and ath for the
// access token on resource requests. It returns the key's thumbprint.
func (s *Server) checkProof(proof, method, htu string, access string, now time.Time) (string, error) {
	if proof == "" || strings.Contains(proof, ",") {
		return "", bad("exactly one DPoP proof is required")
	}
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", bad("the proof is not a compact ES256 JWS")
	}
	if len(jws.Signatures) != 1 {
		return "", bad("the proof must have one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders["typ"].(string); typ != "dpop+jwt" {
		return "", bad("the proof's typ must be dpop+jwt")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() {
		return "", bad("the proof has no jwk header")
	}
	if !h.JSONWebKey.IsPublic() {
		return "", bad("the proof's jwk holds a private key")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", bad("the proof's signature does not verify with its jwk")
	}
	var c struct {
		JTI   string   `json:"jti"`
		HTM   string   `json:"htm"`
		HTU   string   `json:"htu"`
		IAT   *float64 `json:"iat"`
		Nonce string   `json:"nonce"`
		ATH   string   `json:"ath"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", bad("the proof's claims are not JSON")
	}
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return "", bad("the proof needs a jti")
	case c.HTM != method:
		return "", bad("htm %q does not match the request method %s", c.HTM, method)
	case normalizeHTU(c.HTU) != normalizeHTU(htu):
		return "", bad("htu %q does not match the request URL %s", c.HTU, htu)
	case c.IAT == nil:
		return "", bad("the proof needs iat")
	}
	iat := time.Unix(int64(*c.IAT), 0)
	if iat.Before(now.Add(-proofWindow)) || iat.After(now.Add(proofWindow)) {
		return "", bad("the proof's iat is outside the %s window", proofWindow)
	}
	if access != "" {
		sum := sha256.Sum256([]byte(access))
		if c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return "", bad("ath does not match the access token")
		}
	}
	if s.cfg.RequireDPoPNonce && !s.dpop.nonceOK(c.Nonce) {
		return "", &proofError{msg: "a DPoP nonce is required", nonce: true}
	}
	// The replay cache comes last, so a proof refused for its nonce does
	// not burn its jti.
	if s.dpop.replayed(c.JTI, now) {
		return "", bad("the proof's jti was already used")
	}
	t, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", bad("cannot compute the jwk thumbprint")
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

// normalizeHTU compares URLs as RFC 9449 §4.3 says: scheme and host case-
// insensitively, default ports dropped, no query or fragment.
func normalizeHTU(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "\x00invalid"
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host + u.EscapedPath()
}
