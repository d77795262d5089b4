package domain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// ClassifyNetError gives a transport failure its kind (SPEC §4): a TLS
// verification failure is a security violation (15); DNS failures, refused
// or reset connections and timeouts make the server unreachable (13).
// who names the server for the message: "the Authority" or "the backend".
// Errors that already have a kind keep it; cancellation passes through.
func ClassifyNetError(err error, who, host string) error {
	if err == nil {
		return nil
	}
	if k, ok := kindIn(err); ok {
		var e *Error
		if errors.As(err, &e) && e.Kind == k {
			return e
		}
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	place := fmt.Sprintf("%s at %s", who, host)
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certInvalid x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		dnsErr      *net.DNSError
	)
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certInvalid), errors.As(err, &verifyErr):
		return Wrap(KindProtocol, err, "TLS certificate of "+place+" is not trusted",
			"If it uses a private CA, set CaBundleFile in the profile or STELLA_CA_BUNDLE to the CA's PEM file.")
	case errors.As(err, &recordErr):
		return Wrap(KindProtocol, err, place+" does not speak TLS", "Check the URL's scheme (https vs http) and port.")
	case errors.As(err, &dnsErr):
		return Wrap(KindUnreachable, err, "cannot resolve "+place, "Check the host name and your DNS or proxy settings.")
	case errors.Is(err, syscall.ECONNREFUSED):
		return Wrap(KindUnreachable, unsaid{err}, "connection refused by "+place, "Check that the server is running and the URL's port is right.")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Wrap(KindUnreachable, unsaid{err}, "connection reset by "+place, "Try again; if it persists, check proxies and firewalls in between.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return Wrap(KindUnreachable, err, "timed out talking to "+place, "Check the network, or raise STELLA_TIMEOUT if the server is slow.")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return Wrap(KindUnreachable, err, "cannot reach "+place, "Check the URL, your network and any HTTPS_PROXY / NO_PROXY settings.")
	}
	return Wrap(KindUnreachable, err, "request to "+place+" failed", "Check the URL, your network and any HTTPS_PROXY / NO_PROXY settings.")
}

// unsaid keeps a cause for errors.Is and -v logs but out of the message,
// where it would only repeat it ("connection refused by the backend at
// h:p: dial tcp h:p: connect: connection refused").
type unsaid struct{ err error }

func (unsaid) Error() string   { return "" }
func (u unsaid) Unwrap() error { return u.err }

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
