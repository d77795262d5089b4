package domain

import (
	"encoding/json"
	"mime"
	"strings"
)

// Problem is an RFC 9457 problem details document, with the extension
// members stella knows how to use: the backend's text, printed sanitised.
type Problem struct {
	Type     Untrusted `json:"type,omitempty"`
	Title    Untrusted `json:"title,omitempty"`
	Status   int       `json:"status,omitempty"`
	Detail   Untrusted `json:"detail,omitempty"`
	Instance Untrusted `json:"instance,omitempty"`
	// RequiredScope is the scope a 403 says is missing, when the server
	// names it in the document ("requiredScope", "scope" or "missingScope");
	// ParseUntrustedScopes makes scopes of it.
	RequiredScope Untrusted `json:"requiredScope,omitempty"`
}

// IsProblemJSON reports whether a Content-Type is application/problem+json.
func IsProblemJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/problem+json"
}

// ParseProblem reads a problem details body. RFC 9457 §3.1 says members of
// the wrong type are ignored, not fatal, so only a body that is not a JSON
// object at all, or has none of the members, reports false.
func ParseProblem(body []byte) (Problem, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return Problem{}, false
	}
	str := func(k string) Untrusted {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil && Printable(s, DefaultLimit) != "" {
			return Untrusted(s)
		}
		return ""
	}
	p := Problem{Type: str("type"), Title: str("title"), Detail: str("detail"), Instance: str("instance")}
	if v, ok := raw["status"]; ok {
		var n float64
		if json.Unmarshal(v, &n) == nil && n >= 100 && n <= 599 && n == float64(int(n)) {
			p.Status = int(n)
		}
	}
	for _, k := range []string{"requiredScope", "missingScope", "scope"} {
		if s := str(k); s != "" {
			p.RequiredScope = s
			break
		}
	}
	if p == (Problem{}) {
		return Problem{}, false
	}
	return p, true
}

// Summary is the problem in one line, sanitised: title and detail,
// whichever exist.
func (p Problem) Summary() string {
	title, detail := p.Title.String(), p.Detail.String()
	switch {
	case title != "" && detail != "" && !strings.EqualFold(title, detail):
		return title + ": " + detail
	case detail != "":
		return detail
	}
	return title
}
