package domain

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CacheURL is a parsed TokenCacheUrl: where the shared fleet cache (Redis
// or Valkey) is and how to reach it. It never holds the password; the
// password is a Secret beside it (SPEC §5 `redis`).
type CacheURL struct {
	TLS        bool     // rediss://
	Addrs      []string // host:port, the first from the URL's host, more from addr=
	Username   string   // ACL user, optional
	DB         int      // /N, standalone and Sentinel only
	MasterName string   // master_name=: the hosts are Sentinels
	Cluster    bool     // cluster=true: a Redis Cluster even with one seed
}

// ParseCacheURL parses a redis:// or rediss:// URL. It returns the URL
// without its password (for settings and display) and the password, if the
// URL carried one. Accepted query parameters: addr (repeatable, more seed
// nodes), master_name (Sentinel) and cluster=true.
func ParseCacheURL(raw string) (CacheURL, Secret, error) {
	bad := func(why, hint string) error {
		return E(KindUsage, fmt.Sprintf("TokenCacheUrl %q %s", RedactCacheURL(raw), why), hint)
	}
	const example = "Use a URL such as rediss://cache.ci.example.com:6379/0 or redis://127.0.0.1:6379."
	if len(raw) > 2048 {
		return CacheURL{}, Secret{}, E(KindUsage, "TokenCacheUrl is longer than 2048 characters", example)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return CacheURL{}, Secret{}, bad("is not a redis:// or rediss:// URL", example)
	}
	var c CacheURL
	switch strings.ToLower(u.Scheme) {
	case "rediss":
		c.TLS = true
	case "redis":
	default:
		return CacheURL{}, Secret{}, bad("is not a redis:// or rediss:// URL", example)
	}
	var pw Secret
	if u.User != nil {
		c.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pw = NewSecret(p)
		}
	}
	addr, err := cacheAddr(u.Host)
	if err != nil {
		return CacheURL{}, Secret{}, bad(err.Error(), example)
	}
	c.Addrs = []string{addr}
	if p := strings.Trim(u.Path, "/"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 10000 {
			return CacheURL{}, Secret{}, bad("names no database number after the host", "Use /0 (or nothing) after host:port.")
		}
		c.DB = n
	}
	for k, vs := range u.Query() {
		switch k {
		case "addr":
			for _, v := range vs {
				a, err := cacheAddr(v)
				if err != nil {
					return CacheURL{}, Secret{}, bad("has addr="+Printable(v, 80)+" that "+err.Error(), "Give each extra node as addr=host:port.")
				}
				c.Addrs = append(c.Addrs, a)
			}
		case "master_name":
			c.MasterName = vs[0]
		case "cluster":
			c.Cluster = vs[0] == "true" || vs[0] == "1"
		default:
			return CacheURL{}, Secret{}, bad("has an unknown parameter "+Printable(k, 40),
				"Only addr=host:port (more nodes), master_name=NAME (Sentinel) and cluster=true are understood.")
		}
	}
	if c.Cluster && c.DB != 0 {
		return CacheURL{}, Secret{}, bad("selects a database, which Redis Cluster does not have", "Drop the /N after host:port.")
	}
	if u.Fragment != "" {
		return CacheURL{}, Secret{}, bad("must not have a fragment", example)
	}
	return c, pw, nil
}

func cacheAddr(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "6379"
	}
	if host == "" {
		return "", fmt.Errorf("has no host")
	}
	if net.ParseIP(host) == nil {
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
				return "", fmt.Errorf("has no valid host name")
			}
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("has no valid port (1-65535)")
	}
	return net.JoinHostPort(host, port), nil
}

// String is the URL as configured, without the password.
func (c CacheURL) String() string {
	scheme := "redis"
	if c.TLS {
		scheme = "rediss"
	}
	u := url.URL{Scheme: scheme, Host: c.Addrs[0]}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	if c.DB != 0 {
		u.Path = "/" + strconv.Itoa(c.DB)
	}
	q := url.Values{}
	for _, a := range c.Addrs[1:] {
		q.Add("addr", a)
	}
	if c.MasterName != "" {
		q.Set("master_name", c.MasterName)
	}
	if c.Cluster {
		q.Set("cluster", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Mode names the deployment for display: standalone, sentinel or cluster.
func (c CacheURL) Mode() string {
	switch {
	case c.MasterName != "":
		return "sentinel"
	case c.Cluster || len(c.Addrs) > 1:
		return "cluster"
	}
	return "standalone"
}
