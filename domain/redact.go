package domain

import (
	"net/url"
	"strings"
)

// RedactURL shows a URL or path the user gave, in a message: a password in
// its user info replaced, and a user name alone too (a token is often
// given as one, https://TOKEN@host); its query left out, as the request
// log leaves it out, since a query can carry a code or a key ("?…" says
// there was one); its fragment likewise ("#…"). A URL that does not parse
// loses everything before its last @, where its user info may end.
func RedactURL(raw string) string {
	base, query, fragment := raw, "", ""
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base, fragment = base[:i], base[i+1:]
	}
	if i := strings.IndexByte(base, '?'); i >= 0 {
		base, query = base[:i], base[i+1:]
	}
	shown := redactUserInfo(base, true)
	if query != "" {
		shown += "?…"
	}
	if fragment != "" {
		shown += "#…"
	}
	return shown
}

// RedactCacheURL shows a TokenCacheUrl: its password replaced (its ACL
// user name stays: the operator needs it, and it is no secret), and the
// value of every query parameter but the cache URL's own (addr,
// master_name, cluster) replaced, since go-redis's spellings of other
// options include sentinel_password.
func RedactCacheURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return RedactURL(raw)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			if k != "addr" && k != "master_name" && k != "cluster" {
				for i := range vs {
					vs[i] = "xxxxx"
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return redactUserInfo(u.String(), false)
}

// redactUserInfo shows raw with a password in it replaced, and with
// anyUser a user name alone too.
func redactUserInfo(raw string, anyUser bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "[redacted]@" + Printable(raw[i+1:], 200)
		}
		return Printable(raw, 200)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else if anyUser {
			u.User = url.User("xxxxx")
		}
	}
	return Printable(u.String(), 300)
}
