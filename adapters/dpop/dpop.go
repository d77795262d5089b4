// Package dpop makes DPoP proofs (RFC 9449) with go-jose: a P-256 key per
// session, its RFC 7638 thumbprint, one signed proof per request, and the
// headers that present a credential (Authorization and DPoP) on a request.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Prover implements ports.Prover. Parsed keys and signers are cached by
// key, since one process signs many proofs with one session key.
type Prover struct {
	clock ports.Clock

	mu      sync.Mutex
	signers map[string]*keyed
}

// keyed is a parsed session key with its protected header already encoded:
// alg, typ and the public jwk are the same in every proof of a key.
type keyed struct {
	priv   *ecdsa.PrivateKey
	header string // base64url of the protected header
}

// New returns a Prover; it does no work.
func New(clock ports.Clock) *Prover { return &Prover{clock: clock, signers: map[string]*keyed{}} }

var _ ports.Prover = (*Prover)(nil)

// NewKey makes a fresh P-256 key and returns it as a private JWK (a
// secret: it is the proof of possession) and its thumbprint.
func (p *Prover) NewKey() (domain.Secret, string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return domain.Secret{}, "", domain.Wrap(domain.KindUnexpected, err, "cannot make a DPoP key", "")
	}
	jwk := jose.JSONWebKey{Key: k, Algorithm: string(jose.ES256)}
	b, err := jwk.MarshalJSON()
	if err != nil {
		return domain.Secret{}, "", domain.Wrap(domain.KindUnexpected, err, "cannot encode the DPoP key", "")
	}
	jkt, err := thumbprint(&jwk)
	if err != nil {
		return domain.Secret{}, "", err
	}
	return domain.NewSecret(string(b)), jkt, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the key's public part.
func (p *Prover) Thumbprint(key domain.Secret) (string, error) {
	jwk, err := parse(key)
	if err != nil {
		return "", err
	}
	return thumbprint(jwk)
}

func thumbprint(jwk *jose.JSONWebKey) (string, error) {
	pub := jwk.Public()
	t, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", domain.Wrap(domain.KindUnexpected, err, "cannot compute the DPoP key thumbprint", "")
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

func parse(key domain.Secret) (*jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(key.Reveal())); err != nil || jwk.IsPublic() {
		return nil, domain.ESignIn(domain.KindStorage, "the session's DPoP key is unreadable", domain.SignInHint{Before: "Sign in again with ", Flags: " --force", After: "."})
	}
	if _, ok := jwk.Key.(*ecdsa.PrivateKey); !ok {
		return nil, domain.ESignIn(domain.KindStorage, "the session's DPoP key is not a P-256 key", domain.SignInHint{Before: "Sign in again with ", Flags: " --force", After: "."})
	}
	return &jwk, nil
}

func (p *Prover) keyed(key domain.Secret) (*keyed, error) {
	id := sha256.Sum256([]byte(key.Reveal()))
	cacheKey := string(id[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.signers[cacheKey]; ok {
		return k, nil
	}
	jwk, err := parse(key)
	if err != nil {
		return nil, err
	}
	// Only the public key goes in the header (RFC 9449 §4.2).
	pub, err := jwk.Public().MarshalJSON()
	if err != nil {
		return nil, domain.Wrap(domain.KindUnexpected, err, "cannot encode the DPoP public key", "")
	}
	h := `{"alg":"ES256","typ":"dpop+jwt","jwk":` + string(pub) + `}`
	k := &keyed{priv: jwk.Key.(*ecdsa.PrivateKey), header: base64.RawURLEncoding.EncodeToString([]byte(h))}
	p.signers[cacheKey] = k
	return k, nil
}

// Proof makes the DPoP proof for one request. access is the access token
// the request carries (its hash goes in ath), empty for token requests.
//
// The compact JWS is assembled here rather than by go-jose's signer: the
// header is encoded once per key, so a proof costs little more than its
// one P-256 signature, which every backend call pays. go-jose still parses
// the key and computes thumbprints, and the tests and the development
// Authority verify these proofs with go-jose.
func (p *Prover) Proof(key domain.Secret, method, target, nonce string, access domain.Secret) (domain.Secret, error) {
	k, err := p.keyed(key)
	if err != nil {
		return domain.Secret{}, err
	}
	htu, err := HTU(target)
	if err != nil {
		return domain.Secret{}, err
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return domain.Secret{}, domain.Wrap(domain.KindUnexpected, err, "no randomness for a DPoP proof", "")
	}
	claims := struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		Nonce string `json:"nonce,omitempty"`
		ATH   string `json:"ath,omitempty"`
	}{JTI: base64.RawURLEncoding.EncodeToString(jti[:]), HTM: strings.ToUpper(method), HTU: htu, IAT: p.clock.Now().Unix(), Nonce: nonce}
	if !access.IsZero() {
		h := sha256.Sum256([]byte(access.Reveal()))
		claims.ATH = base64.RawURLEncoding.EncodeToString(h[:])
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return domain.Secret{}, domain.Wrap(domain.KindUnexpected, err, "cannot encode a DPoP proof", "")
	}
	signingInput := k.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	r, sv, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return domain.Secret{}, domain.Wrap(domain.KindUnexpected, err, "cannot sign a DPoP proof", "")
	}
	// A JWS ES256 signature is R || S, 32 bytes each (RFC 7518 §3.4).
	var sig [64]byte
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return domain.NewSecret(signingInput + "." + base64.RawURLEncoding.EncodeToString(sig[:])), nil
}

// HTU is the htu of a request URL (RFC 9449 §4.2/§4.3): scheme and host in
// lower case, the default port dropped, the path kept, no query, no
// fragment.
func HTU(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", domain.E(domain.KindUsage, fmt.Sprintf("%q is not an absolute URL", domain.Printable(target, 200)), "Give the full URL, such as https://host/path.")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// Nonces remembers the latest DPoP-Nonce of each server (by origin), so the
// next request sends it proactively instead of being refused first.
type Nonces struct {
	mu  sync.Mutex
	m   map[string]domain.DPoPNonce
	now func() time.Time
}

// NewNonces returns an empty nonce memory timed by the system clock.
func NewNonces() *Nonces { return &Nonces{m: map[string]domain.DPoPNonce{}, now: time.Now} }

// NewClockedNonces returns an empty nonce memory timed by c.
func NewClockedNonces(c ports.Clock) *Nonces {
	return &Nonces{m: map[string]domain.DPoPNonce{}, now: c.Now}
}

var _ ports.NonceMemory = (*Nonces)(nil)

func origin(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// endpoint is target without query or fragment: an Authority and a
// resource server can share an origin and still hand out different nonces
// (RFC 9449 §8, §9), so a nonce is kept for the endpoint that sent it as
// well as for its origin.
func endpoint(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	return strings.ToLower(u.Scheme+"://"+u.Host) + u.EscapedPath()
}

// Get returns the remembered nonce for target: the one its endpoint last
// sent, else the latest of its server (origin).
func (n *Nonces) Get(target string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if v, ok := n.m[endpoint(target)]; ok {
		return v.Value
	}
	return n.m[origin(target)].Value
}

// Put remembers a server's latest nonce, for the endpoint and its origin;
// a value already known keeps the time it was first seen.
func (n *Nonces) Put(target, nonce string) {
	if nonce == "" || len(nonce) > domain.MaxNonceBytes {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, k := range []string{endpoint(target), origin(target)} {
		if n.m[k].Value != nonce {
			n.m[k] = domain.DPoPNonce{Origin: k, Value: nonce, Seen: n.now()}
		}
	}
}

// Seed adds stored nonces for origins not heard from in this process.
func (n *Nonces) Seed(stored []domain.DPoPNonce) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range domain.FreshNonces(stored, n.now()) {
		if _, ok := n.m[s.Origin]; !ok {
			n.m[s.Origin] = s
		}
	}
}

// Snapshot lists the nonces known, by origin.
func (n *Nonces) Snapshot() []domain.DPoPNonce {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]domain.DPoPNonce, 0, len(n.m))
	for _, v := range n.m {
		out = append(out, v)
	}
	return domain.FreshNonces(out, n.now())
}
