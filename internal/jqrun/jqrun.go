// Package jqrun filters JSON with a jq expression (github.com/itchyny/gojq,
// the implementation gh uses for `gh api --jq`). Only the stella-jq helper
// imports it: gojq's package initialisation costs every process that links
// it about a millisecond, so stella starts the helper for --jq instead.
package jqrun

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

// Status is how a filter failed; the helper exits with it, and stella
// turns it back into its message, kind and hint (adapters/jq).
type Status int

const (
	StatusFailed      Status = 1 // anything else (the output could not be written)
	StatusSyntax      Status = 2 // the expression does not parse
	StatusUncompiled  Status = 3 // it parses but cannot be compiled ($ENV, input)
	StatusRuntime     Status = 4 // it failed on this document
	StatusNotJSON     Status = 5 // the document is not JSON
	StatusTooMany     Status = 6 // more than maxResults results
	StatusInterrupted Status = 7 // the context ended
)

// Fault is a failed filter: its Status and the one-line detail to report.
type Fault struct {
	Status Status
	Detail string
}

func (f *Fault) Error() string { return f.Detail }

// Filter is one compiled expression.
type Filter struct{ code *gojq.Code }

// Compile parses and compiles expr.
func Compile(expr string) (*Filter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, &Fault{StatusSyntax, domain.Printable(err.Error(), 200)}
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, &Fault{StatusUncompiled, domain.Printable(err.Error(), 200)}
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
		return &Fault{StatusNotJSON, "the document is not JSON"}
	}
	v = normalize(v)
	iter := f.code.RunWithContext(ctx, v)
	for n := 0; ; n++ {
		r, ok := iter.Next()
		if !ok {
			return nil
		}
		if n >= maxResults {
			return &Fault{StatusTooMany, "more than a million results; output stopped there"}
		}
		if err, isErr := r.(error); isErr {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return nil
			}
			if ctx.Err() != nil {
				return &Fault{StatusInterrupted, ctx.Err().Error()}
			}
			return &Fault{StatusRuntime, domain.Printable(err.Error(), 300)}
		}
		if s, isStr := r.(string); isStr {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return &Fault{StatusFailed, err.Error()}
			}
			continue
		}
		b, err := gojq.Marshal(r)
		if err != nil {
			return &Fault{StatusFailed, "cannot print a result: " + err.Error()}
		}
		if pretty {
			var ind bytes.Buffer
			if json.Indent(&ind, b, "", "  ") == nil {
				b = ind.Bytes()
			}
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return &Fault{StatusFailed, err.Error()}
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
