// Package schema holds the JSON Schemas of stella's --json documents
// (docs/json.md) and checks documents against them. The schemas are the
// contract scripts rely on; the tests validate the golden files
// (internal/cli/testdata/golden) and every --json output of the binary in the
// scenarios (testscripts) with them, so the documentation, the schemas and
// the binary cannot drift apart.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// base is the $id prefix of every schema file.
const base = "https://schemas.stellaops.example/stella/v1/"

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	loadErr  error
)

func load() {
	c := jsonschema.NewCompiler()
	entries, err := files.ReadDir(".")
	if err != nil {
		loadErr = err
		return
	}
	var names []string
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			loadErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			loadErr = fmt.Errorf("%s: %w", e.Name(), err)
			return
		}
		if err := c.AddResource(base+e.Name(), doc); err != nil {
			loadErr = fmt.Errorf("%s: %w", e.Name(), err)
			return
		}
		if e.Name() != "common.json" {
			names = append(names, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	compiled = map[string]*jsonschema.Schema{}
	for _, n := range names {
		s, err := c.Compile(base + n + ".json")
		if err != nil {
			loadErr = fmt.Errorf("%s.json: %w", n, err)
			return
		}
		compiled[n] = s
	}
}

// Names lists the documents that have a schema (file names without .json).
func Names() ([]string, error) {
	once.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	var out []string
	for n := range compiled {
		out = append(out, n)
	}
	return out, nil
}

// Check validates out — everything a command printed on stdout — as
// exactly one JSON document of kind name ("status", "doctor", …). A
// document that carries nothing but schemaVersion and error is checked
// against the error schema: a command that failed before it had a result
// prints the error document alone.
func Check(name string, out []byte) error {
	once.Do(load)
	if loadErr != nil {
		return loadErr
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("stdout is not a JSON document: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("stdout holds more than one JSON document (SPEC §3: exactly one)")
	}
	if m, ok := v.(map[string]any); ok && len(m) == 2 && m["error"] != nil && m["schemaVersion"] != nil {
		name = "error"
	}
	s, ok := compiled[path.Base(name)]
	if !ok {
		return fmt.Errorf("no schema %s.json in docs/schema", name)
	}
	// The validator wants the types UnmarshalJSON makes (json.Number).
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return err
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s document does not match docs/schema/%s.json: %v", name, name, err)
	}
	return nil
}
