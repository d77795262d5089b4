package domain

import "strings"

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 §11.6.1).
// Parameter names are lower-cased; values are unquoted.
type Challenge struct {
	Scheme  string
	Token68 string
	Params  map[string]string
}

// Param returns a parameter by (case-insensitive) name.
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// ParseWWWAuthenticate parses every challenge in the given header values.
// It is lenient the way browsers are: a malformed tail ends parsing of that
// value but keeps the challenges already read, and it never panics.
func ParseWWWAuthenticate(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		out = append(out, parseChallenges(v)...)
	}
	return out
}

// FindChallenge returns the first challenge with the scheme (any case).
func FindChallenge(cs []Challenge, scheme string) (Challenge, bool) {
	for _, c := range cs {
		if strings.EqualFold(c.Scheme, scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}

type wwwLexer struct {
	s string
	i int
}

func (l *wwwLexer) skipSpace() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t') {
		l.i++
	}
}

func (l *wwwLexer) skipSpaceAndCommas() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == ',') {
		l.i++
	}
}

func isTChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func (l *wwwLexer) token() string {
	start := l.i
	for l.i < len(l.s) && isTChar(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func (l *wwwLexer) token68() (string, bool) {
	start := l.i
	j := l.i
	for j < len(l.s) && (isTChar(l.s[j]) && l.s[j] != '=' || l.s[j] == '/') {
		j++
	}
	if j == start {
		return "", false
	}
	for j < len(l.s) && l.s[j] == '=' {
		j++
	}
	// A token68 stands alone: what follows must be the end or a comma.
	k := j
	for k < len(l.s) && (l.s[k] == ' ' || l.s[k] == '\t') {
		k++
	}
	if k < len(l.s) && l.s[k] != ',' {
		return "", false
	}
	l.i = j
	return l.s[start:j], true
}

func (l *wwwLexer) quoted() (string, bool) {
	if l.i >= len(l.s) || l.s[l.i] != '"' {
		return "", false
	}
	l.i++
	var b strings.Builder
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch c {
		case '"':
			l.i++
			return b.String(), true
		case '\\':
			if l.i+1 < len(l.s) {
				l.i++
				c = l.s[l.i]
			}
		}
		b.WriteByte(c)
		l.i++
	}
	return "", false // unterminated
}

func parseChallenges(v string) []Challenge {
	l := &wwwLexer{s: v}
	var out []Challenge
	for {
		l.skipSpaceAndCommas()
		if l.i >= len(l.s) {
			return out
		}
		scheme := l.token()
		if scheme == "" {
			return out
		}
		c := Challenge{Scheme: scheme, Params: map[string]string{}}
		l.skipSpace()
		if t, ok := l.token68(); ok && !l.looksLikeParam(t) {
			c.Token68 = t
			out = append(out, c)
			continue
		}
		// auth-params until the next challenge's scheme (a token followed by
		// a space or the end, not by '=').
		for {
			l.skipSpaceAndCommas()
			save := l.i
			name := l.token()
			if name == "" {
				break
			}
			l.skipSpace()
			if l.i >= len(l.s) || l.s[l.i] != '=' {
				l.i = save // the next challenge begins here
				break
			}
			l.i++
			l.skipSpace()
			var val string
			if l.i < len(l.s) && l.s[l.i] == '"' {
				q, ok := l.quoted()
				if !ok {
					out = append(out, c)
					return out
				}
				val = q
			} else {
				val = l.token()
			}
			key := strings.ToLower(name)
			if _, dup := c.Params[key]; !dup { // RFC 9110: names must not repeat; keep the first
				c.Params[key] = val
			}
		}
		out = append(out, c)
		if l.i < len(l.s) && !isTChar(l.s[l.i]) && l.s[l.i] != ',' && l.s[l.i] != ' ' {
			return out // garbage: stop rather than loop
		}
	}
}

// looksLikeParam tells "Bearer realm=x" (params) from "Basic abc=" (token68):
// a token68 followed by '=' then more text is really name=value.
func (l *wwwLexer) looksLikeParam(t string) bool {
	return strings.Contains(strings.TrimRight(t, "="), "=")
}
