// Package jq filters JSON with a jq expression (github.com/itchyny/gojq,
// the implementation gh uses for `gh api --jq`), for `stella api --jq`.
package jq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/itchyny/gojq"

	"github.com/stellaops/stella/domain"
)

// maxResults bounds what one expression may print: `range(1e9)` is an
// expression too.
const maxResults = 1 << 20

// Filter is one compiled expression.
type Filter struct{ code *gojq.Code }

// Compile parses expr; a mistake in it is a usage error naming the fault.
func Compile(expr string) (*Filter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, domain.E(domain.KindUsage, "--jq expression: "+domain.Printable(err.Error(), 200),
			"Write a jq filter such as '.jobs[].id'; see https://jqlang.github.io/jq/manual/.")
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, domain.E(domain.KindUsage, "--jq expression: "+domain.Printable(err.Error(), 200),
			"Write a jq filter such as '.jobs[].id'; $ENV and input functions are not available.")
	}
	return &Filter{code: code}, nil
}

// Run applies the filter to doc and writes each result on its own line:
// strings as they are (so they can be used in a shell), everything else
// as JSON, indented when pretty.
func (f *Filter) Run(ctx context.Context, doc []byte, w io.Writer, pretty bool) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return domain.E(domain.KindProtocol, "--jq needs a JSON answer, and the backend's is not JSON",
			"Drop --jq to see the answer as it is.")
	}
	v = normalize(v)
	iter := f.code.RunWithContext(ctx, v)
	for n := 0; ; n++ {
		r, ok := iter.Next()
		if !ok {
			return nil
		}
		if n >= maxResults {
			return domain.E(domain.KindUsage, "--jq produced more than a million results; output stopped there", "Narrow the filter.")
		}
		if err, isErr := r.(error); isErr {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return domain.E(domain.KindUsage, "--jq: "+domain.Printable(err.Error(), 300), "Check the filter against the answer's shape (drop --jq to see it).")
		}
		if s, isStr := r.(string); isStr {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return err
			}
			continue
		}
		b, err := gojq.Marshal(r)
		if err == nil && pretty {
			var ind bytes.Buffer
			if json.Indent(&ind, b, "", "  ") == nil {
				b = ind.Bytes()
			}
		}
		if err != nil {
			return domain.Wrap(domain.KindUnexpected, err, "cannot print a --jq result", "")
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
}

// normalize turns json.Number into the int or float64 gojq works with,
// keeping integers exact.
func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = normalize(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normalize(t[k])
		}
	}
	return v
}
