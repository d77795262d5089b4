package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/stellaops/stella/adapters/jq"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// maxDataFile bounds --data @file; the transport bounds it again.
const maxDataFile = 32 << 20

// APICmd is `stella api`.
type APICmd struct {
	Method    string   `short:"X" name:"method" help:"HTTP method (default GET, or POST with --data)." placeholder:"METHOD"`
	Args      []string `arg:"" name:"path" help:"[METHOD] PATH: path relative to the backend URL, optionally preceded by the method."`
	Data      string   `short:"d" help:"Request body: TEXT, @FILE, or - for stdin." placeholder:"DATA"`
	Headers   []string `short:"H" name:"header" sep:"none" help:"Extra request header 'Name: value' (repeatable)." placeholder:"'K: V'"`
	Fields    []string `short:"F" name:"field" sep:"none" help:"Add a typed body field key=value (repeatable): true, false, null and numbers become JSON, @FILE reads the file; the body is JSON and the method POST unless -X says otherwise (GET: query parameters)." placeholder:"KEY=VALUE"`
	RawFields []string `short:"f" name:"raw-field" sep:"none" help:"Add a string body field key=value (repeatable), as -F but never converted." placeholder:"KEY=VALUE"`
	Include   bool     `short:"i" name:"include" help:"Print the response status line and headers before the body."`
	JQ        string   `name:"jq" help:"Filter a JSON answer with a jq expression (run by stella-jq, installed next to stella); strings print without quotes." placeholder:"EXPR"`
	WS        bool     `name:"ws" help:"Open a WebSocket stream at PATH and print each message as a line."`
}

// Help is shown by `stella api --help`.
func (APICmd) Help() string {
	return `Calls the StellaOps backend at BackendUrl with the session's credentials:
a valid token is attached (refreshed first when due, and once more on a 401),
the response body goes to stdout (JSON indented on a terminal, as sent when
piped), and an error answer prints the server's problem details with what to
do next, exiting with the mapped code. -f/-F build a JSON body as gh api does.

Examples:
  stella api GET /api/v1/jobs
  stella api /api/v1/jobs --jq '.jobs[].id'           # filter JSON with jq (gojq)
  stella api -F pack=nightly-scan -F priority=2 /api/v1/jobs   # a JSON body: POST {"pack":…,"priority":2}
  stella api -i /api/v1/me                            # status line and headers, then the body
  stella api -X POST /api/v1/jobs --data '{"pack":"nightly-scan"}'
  stella api POST /api/v1/jobs --data @job.json -H 'Content-Type: application/json'
  stella api --ws /api/v1/jobs/job-1001/events       # a stream, one message per line`
}

// Run performs the call.
func (c *APICmd) Run(rt *Runtime) error {
	method, path, err := c.target()
	if err != nil {
		return err
	}
	var filter *jq.Filter
	if c.JQ != "" {
		s, _ := rt.Settings()
		if filter, err = jq.New(s).Compile(rt.ctx, c.JQ); err != nil {
			return err
		}
	}
	if c.WS {
		if c.Data != "" || len(c.Headers) > 0 || method != http.MethodGet || len(c.Fields)+len(c.RawFields) > 0 || c.Include || c.JQ != "" {
			return domain.E(domain.KindUsage, "--ws takes only a PATH", "Example: stella api --ws /api/v1/jobs/job-1001/events")
		}
		var uc *app.Stream
		if err := rt.Populate(&uc); err != nil {
			return err
		}
		longLivedGC()
		return uc.Do(rt.ctx, path, rt.RawOut())
	}
	var body io.Reader
	if len(c.Fields)+len(c.RawFields) > 0 {
		if c.Data != "" {
			return domain.E(domain.KindUsage, "--data and -f/-F both give a body", "Use either --data or fields, not both.")
		}
		fields, err := c.fieldValues(rt)
		if err != nil {
			return err
		}
		if method == http.MethodGet || method == http.MethodHead {
			// gh api: fields of a GET are query parameters.
			path = withQuery(path, fields)
		} else {
			b, err := json.Marshal(fields)
			if err != nil {
				return domain.Wrap(domain.KindUnexpected, err, "cannot encode the fields", "")
			}
			body = bytes.NewReader(b)
		}
	} else if body, err = c.body(rt); err != nil {
		return err
	}
	header := http.Header{}
	for i, h := range c.Headers {
		k, v, err := splitHeader(i+1, h)
		if err != nil {
			return err
		}
		header.Add(k, v)
	}
	if body != nil && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	var uc *app.API
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	// Straight through when piped, so a large answer streams; held back to
	// be indented, filtered or put after the headers otherwise.
	tty := term.IsTerminal(rt.RawOut())
	if !tty && filter == nil && !c.Include {
		_, err = uc.Do(rt.ctx, app.APIInput{Method: method, Path: path, Header: header, Body: body, Out: rt.RawOut()})
		return err
	}
	// On a terminal the answer is shown, so it is sanitised like any text
	// from outside (SPEC §6; JSON stays valid); piped, it is data, byte for byte.
	shown := rt.RawOut()
	if tty {
		shown = rt.Out()
	}
	var buf bytes.Buffer
	res, err := uc.Do(rt.ctx, app.APIInput{Method: method, Path: path, Header: header, Body: body, Out: &buf})
	if c.Include && res.Status != 0 {
		writeHead(rt.Out(), res, tty)
	}
	if err != nil {
		return err
	}
	if filter != nil {
		return filter.Run(rt.ctx, buf.Bytes(), shown, tty)
	}
	if tty && isJSON(res.Header) {
		var ind bytes.Buffer
		if json.Indent(&ind, buf.Bytes(), "", "  ") == nil {
			ind.WriteByte('\n')
			_, err = shown.Write(ind.Bytes())
			return err
		}
	}
	_, err = shown.Write(buf.Bytes())
	return err
}

// fieldValues builds the body of -f/-F with gh api's rules: -f values are
// strings; -F values true, false, null and numbers are JSON, @FILE is the
// file's content (@- stdin); key[] appends to an array and key[sub] nests.
func (c *APICmd) fieldValues(rt *Runtime) (map[string]any, error) {
	out := map[string]any{}
	// As with -H, a refusal counts the field rather than repeating it: a
	// value pasted without its key may be a secret.
	add := func(n int, kv string, typed bool) error {
		k, v, ok := strings.Cut(kv, "=")
		flag := "-f"
		if typed {
			flag = "-F"
		}
		hint := "Write fields as " + flag + " pack=nightly-scan."
		switch {
		case !ok:
			return domain.E(domain.KindUsage, "field "+nth(flag, n)+" is not key=value (no =)", hint)
		case k == "":
			return domain.E(domain.KindUsage, "field "+nth(flag, n)+" has no key before its =", hint)
		}
		var val any = v
		if typed {
			var err error
			if val, err = c.typed(rt, v); err != nil {
				return err
			}
		}
		return setField(out, k, val)
	}
	for i, kv := range c.RawFields {
		if err := add(i+1, kv, false); err != nil {
			return nil, err
		}
	}
	for i, kv := range c.Fields {
		if err := add(i+1, kv, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *APICmd) typed(rt *Runtime, v string) (any, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		return f, nil
	}
	if strings.HasPrefix(v, "@") {
		data := v
		if v == "@-" {
			data = "-"
		}
		r, err := (&APICmd{Data: data}).body(rt)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(r, maxDataFile+1))
		if err != nil || len(b) > maxDataFile {
			return nil, domain.E(domain.KindUsage, "cannot read the field's file "+domain.Printable(v[1:], 200), "Check the path after @; at most 32 MiB.")
		}
		return string(b), nil
	}
	return v, nil
}

// setField sets key (with key[] and key[sub] forms) in m.
func setField(m map[string]any, key string, val any) error {
	name, rest, nested := strings.Cut(key, "[")
	if !nested {
		m[key] = val
		return nil
	}
	sub, after, ok := strings.Cut(rest, "]")
	if !ok || name == "" {
		return domain.E(domain.KindUsage, fmt.Sprintf("field name %q is not key, key[] or key[sub]", domain.Printable(key, 80)), "Write -F 'labels[]=nightly' or -F 'owner[team]=ops'.")
	}
	if sub == "" { // key[]: an array
		if after != "" {
			return domain.E(domain.KindUsage, fmt.Sprintf("field name %q: nothing may follow []", domain.Printable(key, 80)), "Write -F 'labels[]=nightly'.")
		}
		arr, _ := m[name].([]any)
		m[name] = append(arr, val)
		return nil
	}
	child, ok := m[name].(map[string]any)
	if !ok {
		child = map[string]any{}
		m[name] = child
	}
	return setField(child, sub+after, val)
}

// withQuery adds fields to path as query parameters.
func withQuery(path string, fields map[string]any) string {
	q := url.Values{}
	for k, v := range fields {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				q.Add(k+"[]", fmt.Sprint(e))
			}
		case nil:
			q.Add(k, "")
		default:
			q.Add(k, fmt.Sprint(t))
		}
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + q.Encode()
}

// target accepts `api PATH`, `api METHOD PATH` and `api -X METHOD PATH`.
func (c *APICmd) target() (method, path string, err error) {
	method = c.Method
	switch len(c.Args) {
	case 1:
		path = c.Args[0]
		if isMethodWord(path) {
			return "", "", domain.E(domain.KindUsage, fmt.Sprintf("%s needs a PATH", path),
				"Example: stella api "+path+" /api/v1/jobs")
		}
	case 2:
		if method != "" {
			return "", "", domain.E(domain.KindUsage, "the method is given twice", "Use either -X METHOD or a leading METHOD argument.")
		}
		method, path = c.Args[0], c.Args[1]
	default:
		return "", "", domain.E(domain.KindUsage, "expected [METHOD] PATH", "Example: stella api GET /api/v1/jobs")
	}
	if method == "" {
		method = http.MethodGet
		if c.Data != "" || len(c.Fields)+len(c.RawFields) > 0 {
			method = http.MethodPost
		}
	}
	return strings.ToUpper(method), path, nil
}

// isMethodWord reports whether a lone argument is an HTTP method rather
// than a path (`stella api GET` would otherwise send GET /GET).
func isMethodWord(s string) bool {
	switch strings.ToUpper(s) {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return !strings.HasPrefix(s, "/")
	}
	return false
}

func (c *APICmd) body(rt *Runtime) (io.Reader, error) {
	switch {
	case c.Data == "":
		return nil, nil
	case c.Data == "-":
		return rt.io.In, nil
	case strings.HasPrefix(c.Data, "@"):
		name := c.Data[1:]
		f, err := os.Open(name)
		if err != nil {
			return nil, domain.Wrap(domain.KindUsage, err, "cannot read --data file", "Check the path after @.")
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxDataFile+1))
		if err != nil {
			return nil, domain.Wrap(domain.KindUsage, err, "cannot read --data file", "Check the path after @.")
		}
		if len(b) > maxDataFile {
			return nil, domain.E(domain.KindUsage, "--data file is larger than 32 MiB", "Send less data per call.")
		}
		return bytes.NewReader(b), nil
	}
	return strings.NewReader(c.Data), nil
}

// splitHeader reads the nth -H 'Name: value'. A header's value is often a
// key or a cookie, and a line without a colon may be one pasted alone, so
// a refusal never repeats a value: it names the header, or counts it.
func splitHeader(n int, h string) (name, value string, err error) {
	const hint = "Write headers as -H 'Accept: application/json'."
	k, v, ok := strings.Cut(h, ":")
	k = strings.TrimSpace(k)
	switch {
	case !ok:
		return "", "", domain.E(domain.KindUsage, "header "+nth("-H", n)+" has no colon: it is not 'Name: value'", hint)
	case k == "":
		return "", "", domain.E(domain.KindUsage, "header "+nth("-H", n)+" has no name before its colon", hint)
	case strings.ContainsAny(k, " \t\r\n"):
		return "", "", domain.E(domain.KindUsage, "header "+nth("-H", n)+" has a space in its name", hint)
	case strings.ContainsAny(v, "\r\n"):
		return "", "", domain.E(domain.KindUsage, "the value of header "+domain.Printable(k, 40)+" has a line break in it", "Give each header its own -H.")
	}
	return k, strings.TrimSpace(v), nil
}

// nth names the nth use of a flag on the line ("-H #2"), where a
// refusal must not repeat what was given.
func nth(flag string, n int) string { return flag + " #" + strconv.Itoa(n) }
