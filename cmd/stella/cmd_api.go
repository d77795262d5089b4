package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// maxDataFile bounds --data @file; the transport bounds it again.
const maxDataFile = 32 << 20

// APICmd is `stella api`.
type APICmd struct {
	Method  string   `short:"X" name:"method" help:"HTTP method (default GET, or POST with --data)." placeholder:"METHOD"`
	Args    []string `arg:"" name:"path" help:"[METHOD] PATH: path relative to the backend URL, optionally preceded by the method."`
	Data    string   `short:"d" help:"Request body: TEXT, @FILE, or - for stdin." placeholder:"DATA"`
	Headers []string `short:"H" name:"header" sep:"none" help:"Extra request header 'Name: value' (repeatable)." placeholder:"'K: V'"`
	WS      bool     `name:"ws" help:"Open a WebSocket stream at PATH and print each message as a line."`
}

// Help is shown by `stella api --help`.
func (APICmd) Help() string {
	return `Calls the StellaOps backend at BackendUrl with the session's credentials:
a valid token is attached (refreshed first when due, and once more on a 401),
the response body goes to stdout, and an error answer prints the server's
problem details with what to do next, exiting with the mapped code.

Examples:
  stella api GET /api/v1/jobs
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
	if c.WS {
		if c.Data != "" || len(c.Headers) > 0 || method != http.MethodGet {
			return domain.E(domain.KindUsage, "--ws takes only a PATH", "Example: stella api --ws /api/v1/jobs/job-1001/events")
		}
		var uc *app.Stream
		if err := rt.Populate(&uc); err != nil {
			return err
		}
		longLivedGC()
		return uc.Do(rt.ctx, path, rt.Out())
	}
	body, err := c.body(rt)
	if err != nil {
		return err
	}
	header := http.Header{}
	for _, h := range c.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
			return domain.E(domain.KindUsage, "header "+domain.Printable(h, 80)+" is not 'Name: value'", "Write headers as -H 'Accept: application/json'.")
		}
		header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if body != nil && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	var uc *app.API
	if err := rt.Populate(&uc); err != nil {
		return err
	}
	_, err = uc.Do(rt.ctx, app.APIInput{Method: method, Path: path, Header: header, Body: body, Out: rt.Out()})
	return err
}

// target accepts `api PATH`, `api METHOD PATH` and `api -X METHOD PATH`.
func (c *APICmd) target() (method, path string, err error) {
	method = c.Method
	switch len(c.Args) {
	case 1:
		path = c.Args[0]
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
		if c.Data != "" {
			method = http.MethodPost
		}
	}
	return strings.ToUpper(method), path, nil
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
