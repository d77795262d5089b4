// Package transport is the network under stella: the base transport every
// request rides on (TLS roots, proxies, User-Agent, -v request logs), and
// the one authenticated transport every backend call goes through.
package transport

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxCABundle bounds the CA bundle file; real bundles are a few hundred KB.
const maxCABundle = 4 << 20

// Base is the network layer: proxies from the environment, system roots
// plus CaBundleFile, sane dial and handshake timeouts, a User-Agent, and a
// -v log line per request. It is built on first use, so constructing it
// reads no files.
type Base struct {
	settings domain.Settings
	build    domain.BuildInfo
	files    ports.RegularFiles
	log      *slog.Logger

	once sync.Once
	rt   http.RoundTripper
	err  error
}

// NewBase returns the base transport; it does no I/O. files reads the CA
// bundle, client certificate and key (the config adapter's bounded read).
func NewBase(s domain.Settings, b domain.BuildInfo, files ports.RegularFiles, log *slog.Logger) *Base {
	return &Base{settings: s, build: b, files: files, log: log}
}

var _ ports.HTTPBase = (*Base)(nil)

// RoundTrip sends one request.
func (b *Base) RoundTrip(req *http.Request) (*http.Response, error) {
	b.once.Do(func() { b.rt, b.err = b.newTransport() })
	if b.err != nil {
		closeBody(req)
		return nil, b.err
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", b.build.UserAgent())
	}
	if !b.log.Enabled(req.Context(), slog.LevelDebug) {
		return b.rt.RoundTrip(req)
	}
	start := time.Now()
	resp, err := b.rt.RoundTrip(req)
	target := logTarget(req.URL)
	if err != nil {
		b.log.Debug("http request failed", "method", req.Method, "url", target, "duration", time.Since(start).Round(time.Microsecond), "error", err)
		return nil, err
	}
	b.log.Debug("http request", "method", req.Method, "url", target, "status", resp.StatusCode, "duration", time.Since(start).Round(time.Microsecond))
	return resp, nil
}

func (b *Base) newTransport() (http.RoundTripper, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.settings.AuthMode == domain.AuthModeMTLS {
		pair, err := b.keyPair()
		if err != nil {
			return nil, err
		}
		tlsConf.Certificates = []tls.Certificate{pair}
	}
	if f := b.settings.CABundleFile; f != "" {
		pool, err := loadCABundle(b.files, f, b.settings.From("Authority.CaBundleFile"))
		if err != nil {
			return nil, err
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: b.settings.RequestTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}, nil
}

// keyPair loads the mTLS client certificate and key.
func (b *Base) keyPair() (tls.Certificate, error) {
	s := b.settings
	if s.ClientCertFile == "" || s.ClientKeyFile == "" {
		return tls.Certificate{}, domain.E(domain.KindUsage, "AuthMode mtls needs a client certificate and key",
			"Set ClientCertificateFile and ClientKeyFile in the profile, or STELLA_CLIENT_CERT and STELLA_CLIENT_KEY.")
	}
	// Read both bounded and only if regular (tls.LoadX509KeyPair would
	// read /dev/zero until memory runs out, and hang on a FIFO).
	cannot := func(err error) error {
		return domain.Wrap(domain.KindUsage, err, "cannot load the client certificate "+s.ClientCertFile+
			s.From("Authority.ClientCertificateFile")+" and key "+s.ClientKeyFile+s.From("Authority.ClientKeyFile"),
			"Point ClientCertificateFile / ClientKeyFile (or STELLA_CLIENT_CERT / STELLA_CLIENT_KEY) at a matching PEM certificate and private key.")
	}
	var pems [2][]byte
	for i, p := range []string{s.ClientCertFile, s.ClientKeyFile} {
		pem, why, err := ports.ReadSettingFile(b.files, p, maxCABundle)
		switch {
		case why != "" && err != nil:
			return tls.Certificate{}, cannot(err) // the OS's error names the file
		case why != "":
			return tls.Certificate{}, cannot(errors.New(p + " " + why))
		}
		pems[i] = pem
	}
	pair, err := tls.X509KeyPair(pems[0], pems[1])
	if err != nil {
		return tls.Certificate{}, cannot(err)
	}
	return pair, nil
}

// Thumbprint is the client certificate's RFC 8705 x5t#S256.
func (b *Base) Thumbprint() (string, error) {
	pair, err := b.keyPair()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pair.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

var _ ports.ClientCertificate = (*Base)(nil)

// loadCABundle adds the bundle's certificates to the system roots: extra
// CAs extend trust for a private Authority, they do not replace it.
func loadCABundle(files ports.RegularFiles, path, from string) (*x509.CertPool, error) {
	bad := func(err error, why string) error {
		return domain.Wrap(domain.KindUsage, err, fmt.Sprintf("CA bundle %s%s %s", path, from, why),
			"Point CaBundleFile / STELLA_CA_BUNDLE at a readable PEM file of CA certificates.")
	}
	pem, why, err := ports.ReadSettingFile(files, path, maxCABundle)
	if why != "" {
		return nil, bad(err, why)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, bad(nil, "holds no PEM certificate")
	}
	return pool, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// logTarget is how a request's URL appears in the log: never the query,
// which can carry codes and keys, nor user info. (Never headers or bodies
// either.)
func logTarget(u *url.URL) string { return u.Scheme + "://" + u.Host + u.EscapedPath() }
