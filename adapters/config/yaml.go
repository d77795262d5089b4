package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxFileSize bounds a configuration file; real ones are a few hundred bytes.
const maxFileSize = 1 << 20

// The schema of SPEC §2: keys are case-sensitive, as shown.
var (
	authorityKeys = []string{"Url", "ClientId", "ClientSecret", "ClientSecretFile", "Scope", "AddScope", "Audience", "AuthMode",
		"TokenStorage", "TokenCacheDirectory", "KeyCacheTTL", "ClientCertificateFile", "ClientKeyFile", "CaBundleFile", "Username", "TokenCacheUrl"}
	stellaKeys = []string{"Authority", "BackendUrl", "ActiveProfile"}
)

// fileValue is one scalar read from a file, with its line.
type fileValue struct {
	value string
	line  int
}

// fileLayer is what one YAML file says, keyed by "Authority.Url" etc.
type fileLayer struct {
	path   string
	values map[string]fileValue
}

// value is one value of the layer; a nil layer (no file) has none.
func (f *fileLayer) value(key string) (fileValue, bool) {
	if f == nil {
		return fileValue{}, false
	}
	v, ok := f.values[key]
	return v, ok
}

func usageErr(path string, line int, msg, hint string) error {
	return domain.E(domain.KindUsage, fmt.Sprintf("%s:%d: %s", path, line, msg), hint)
}

// readLayer parses one configuration file strictly. A missing file is
// (nil, nil) when optional.
func readLayer(path string, optional bool) (*fileLayer, error) {
	b, err := readConfigFile(path, optional)
	if err != nil || b == nil && optional {
		return nil, err
	}
	return parseLayer(path, b)
}

// readConfigFile reads one configuration file through readRegular's
// bounds (no FIFO blocks it, no device or oversized file is read), with
// errors that name the file. A missing file is (nil, nil) when optional.
func readConfigFile(path string, optional bool) ([]byte, error) {
	b, _, err := readRegular(path, maxFileSize)
	var nr ports.NotRegularFile
	switch {
	case err != nil && optional && os.IsNotExist(err):
		return nil, nil
	case errors.As(err, &nr):
		return nil, domain.E(domain.KindUsage, path+" "+nr.Error(), "A stella configuration file is a regular YAML file; check the path.")
	case errors.Is(err, ports.ErrFileTooLarge):
		return nil, domain.E(domain.KindUsage, path+" is larger than 1 MiB", "A stella configuration file is a few lines of YAML; check the path.")
	case err != nil:
		return nil, domain.Wrap(domain.KindUsage, err, "cannot read "+path, "Check that the file exists and is readable.")
	}
	if b == nil {
		b = []byte{} // present and empty: not the missing file's nil
	}
	return b, nil
}

func parseLayer(path string, b []byte) (*fileLayer, error) {
	layer := &fileLayer{path: path, values: map[string]fileValue{}}
	if len(bytes.TrimSpace(b)) == 0 {
		return layer, nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		line, msg := yamlError(err)
		var te *yaml.TypeError
		if asTypeError(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		if l := faultLine(b); l > 0 {
			line = l
		}
		return nil, usageErr(path, line, "malformed YAML: "+domain.Printable(msg, 200), "Fix the YAML syntax; see the README's Configuration section for the schema.")
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, usageErr(path, extra.Line, "more than one YAML document", "Keep one document per file (remove the extra ---).")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return layer, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return layer, nil
	}
	top, err := mapping(path, root, "the top level", []string{"StellaOps"})
	if err != nil {
		return nil, err
	}
	so, ok := top["StellaOps"]
	if !ok {
		return layer, nil
	}
	if so.Kind == yaml.ScalarNode && so.Tag == "!!null" {
		return layer, nil
	}
	stella, err := mapping(path, so, "StellaOps", stellaKeys)
	if err != nil {
		return nil, err
	}
	if n, ok := stella["ActiveProfile"]; ok {
		v, err := scalar(path, n, "StellaOps.ActiveProfile")
		if err != nil {
			return nil, err
		}
		layer.values["ActiveProfile"] = fileValue{v, n.Line}
	}
	if n, ok := stella["BackendUrl"]; ok {
		v, err := scalar(path, n, "StellaOps.BackendUrl")
		if err != nil {
			return nil, err
		}
		layer.values["BackendUrl"] = fileValue{v, n.Line}
	}
	if an, ok := stella["Authority"]; ok && !(an.Kind == yaml.ScalarNode && an.Tag == "!!null") {
		auth, err := mapping(path, an, "StellaOps.Authority", authorityKeys)
		if err != nil {
			return nil, err
		}
		for k, n := range auth {
			v, err := scalar(path, n, "StellaOps.Authority."+k)
			if err != nil {
				return nil, err
			}
			layer.values["Authority."+k] = fileValue{v, n.Line}
		}
	}
	return layer, nil
}

// yamlError splits "yaml: line 4: did not find expected key" into its line
// and its words, so the line is said once, as path:line.
func yamlError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
	}
	return line, msg
}

// maxFaultScan bounds faultLine's work: one parse per line.
const maxFaultScan = 500

// faultLine finds the line a syntax error is on. yaml.v3 names the line
// where the enclosing block began (a bad key on line 4 of a mapping that
// starts on line 1 is "line 1"), so the file is parsed line by line: the
// first prefix that fails, for a reason other than ending too soon (an
// unclosed quote or bracket that later lines close), holds the fault. 0
// when that cannot be told.
func faultLine(b []byte) int {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > maxFaultScan {
		return 0
	}
	for k := 1; k <= len(lines); k++ {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if err == nil {
			continue
		}
		if _, ok := err.(*yaml.TypeError); ok {
			return 0
		}
		msg := err.Error()
		if strings.Contains(msg, "end of stream") || strings.Contains(msg, "did not find expected ',' or") ||
			strings.Contains(msg, "did not find expected ',' or ']'") || strings.Contains(msg, "could not find expected") {
			continue // unfinished; a later line may finish it
		}
		return k
	}
	return 0
}

func asTypeError(err error, te **yaml.TypeError) bool {
	t, ok := err.(*yaml.TypeError)
	if ok {
		*te = t
	}
	return ok
}

// mapping checks a mapping node against its known keys: unknown and
// duplicate keys are errors naming the line, with a suggestion.
func mapping(path string, n *yaml.Node, where string, known []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, usageErr(path, n.Line, where+" must be a mapping of keys to values", "See the README's Configuration section for the schema.")
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, usageErr(path, k.Line, "keys in "+where+" must be plain names", "See the README's Configuration section for the schema.")
		}
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q in %s", domain.Printable(k.Value, 64), where)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, usageErr(path, k.Line, msg, "Known keys in "+where+": "+strings.Join(known, ", ")+".")
		}
		if _, dup := out[k.Value]; dup {
			return nil, usageErr(path, k.Line, fmt.Sprintf("key %q appears twice in %s", k.Value, where), "Keep one of them.")
		}
		out[k.Value] = v
	}
	return out, nil
}

func scalar(path string, n *yaml.Node, where string) (string, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return "", usageErr(path, n.Line, where+" must be a single value, not a list or mapping", "Write it as Key: value; scopes are one space-separated string.")
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to k: the same letters in another
// case, or within two edits.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := domain.EditDistance(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
