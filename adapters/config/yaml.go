package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

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
	f, err := parseYAML(b, 0)
	if err != nil {
		line, msg := yamlError(err)
		return nil, usageErr(path, line, "malformed YAML: "+domain.Printable(msg, 200), "Fix the YAML syntax; see the README's Configuration section for the schema.")
	}
	docs := documents(f)
	if len(docs) > 1 {
		return nil, usageErr(path, line(docs[1]), "more than one YAML document", "Keep one document per file (remove the extra ---).")
	}
	if len(docs) == 0 {
		return layer, nil
	}
	d := &doc{path: path, anchors: map[string]ast.Node{}}
	top, err := d.mapping(docs[0], "the top level", []string{"StellaOps"})
	if err != nil {
		return nil, err
	}
	stella, err := d.mapping(top["StellaOps"], "StellaOps", stellaKeys)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"ActiveProfile", "BackendUrl"} {
		if n, ok := stella[k]; ok {
			v, err := d.scalar(n, "StellaOps."+k)
			if err != nil {
				return nil, err
			}
			layer.values[k] = fileValue{v, line(n)}
		}
	}
	auth, err := d.mapping(stella["Authority"], "StellaOps.Authority", authorityKeys)
	if err != nil {
		return nil, err
	}
	for k, n := range auth {
		v, err := d.scalar(n, "StellaOps.Authority."+k)
		if err != nil {
			return nil, err
		}
		layer.values["Authority."+k] = fileValue{v, line(n)}
	}
	return layer, nil
}

// parseYAML parses b into goccy/go-yaml's syntax tree. Duplicate keys are
// left to mapping, which names both. The parser is a library reading a
// file anyone may have written, so a panic in it is one more syntax
// error, never a crash (SPEC §6), and its errors are syntaxErrors: their
// words never repeat the file's text.
func parseYAML(b []byte, mode parser.Mode) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, syntaxError{msg: "the YAML parser failed on this file"}
		}
	}()
	f, err = parser.ParseBytes(b, mode, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, newSyntaxError(err)
	}
	return f, nil
}

// syntaxError is a YAML syntax error: the line it is on (0 when the
// parser did not say) and the parser's words.
type syntaxError struct {
	line int
	msg  string
}

func (e syntaxError) Error() string { return e.msg }

// newSyntaxError keeps what goccy/go-yaml says of a syntax error but what
// it quotes of the file: the line may be a secret's ("invalid header
// option: \"hunter2\"" for `ClientSecret: |hunter2`), and the error names
// the file and line instead.
func newSyntaxError(err error) syntaxError {
	var te interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if !errors.As(err, &te) {
		return syntaxError{msg: "the YAML parser failed on this file"}
	}
	e := syntaxError{msg: te.GetMessage()}
	if tk := te.GetToken(); tk != nil && tk.Position != nil {
		e.line = tk.Position.Line
	}
	if i := strings.IndexByte(e.msg, '"'); i >= 0 {
		e.msg = strings.TrimRight(e.msg[:i], " :") + " (the text at fault is not repeated)"
	}
	return e
}

// documents are f's documents that hold something: a file of comments,
// or one ending in "---", has fewer than its markers suggest.
func documents(f *ast.File) []ast.Node {
	var out []ast.Node
	for _, d := range f.Docs {
		switch d.Body.(type) {
		case nil, *ast.CommentGroupNode, *ast.CommentNode:
			continue
		}
		out = append(out, d.Body)
	}
	return out
}

// yamlError is a syntax error's line and its words, so the line is said
// once, as path:line. goccy/go-yaml reports the token the fault is at.
func yamlError(err error) (int, string) {
	var se syntaxError
	if errors.As(err, &se) {
		return se.line, se.msg
	}
	return 0, err.Error()
}

// line is the line n starts on (0 when the parser did not say).
func line(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// doc walks one document, resolving anchors and aliases in the order
// they appear, as YAML defines them.
type doc struct {
	path    string
	anchors map[string]ast.Node
}

// resolve looks through anchors, aliases and tags to the node they name.
func (d *doc) resolve(n ast.Node) ast.Node {
	for range 64 { // an alias cannot name itself, but a chain is bounded anyway
		switch t := n.(type) {
		case *ast.AnchorNode:
			if t.Name != nil {
				d.anchors[t.Name.GetToken().Value] = t.Value
			}
			n = t.Value
		case *ast.AliasNode:
			if t.Value == nil {
				return n
			}
			target, ok := d.anchors[t.Value.GetToken().Value]
			if !ok {
				return n
			}
			n = target
		case *ast.TagNode:
			n = t.Value
		default:
			return n
		}
	}
	return n
}

// mapping checks a mapping node against its known keys: unknown and
// duplicate keys are errors naming the line, with a suggestion. An absent
// or null node is an empty mapping (nil, nil).
func (d *doc) mapping(n ast.Node, where string, known []string) (map[string]ast.Node, error) {
	n = d.resolve(n)
	var values []*ast.MappingValueNode
	switch t := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.MappingNode:
		values = t.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{t}
	default:
		return nil, usageErr(d.path, line(n), where+" must be a mapping of keys to values", "See the README's Configuration section for the schema.")
	}
	out := map[string]ast.Node{}
	for _, mv := range values {
		k, ok := plainKey(mv.Key)
		if !ok {
			return nil, usageErr(d.path, line(mv.Key), "keys in "+where+" must be plain names", "See the README's Configuration section for the schema.")
		}
		if !contains(known, k) {
			msg := fmt.Sprintf("unknown key %q in %s", domain.Printable(k, 64), where)
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, usageErr(d.path, line(mv.Key), msg, "Known keys in "+where+": "+strings.Join(known, ", ")+".")
		}
		if _, dup := out[k]; dup {
			return nil, usageErr(d.path, line(mv.Key), fmt.Sprintf("key %q appears twice in %s", k, where), "Keep one of them.")
		}
		out[k] = mv.Value
	}
	return out, nil
}

// plainKey is a mapping key written as a plain or quoted string.
func plainKey(k ast.MapKeyNode) (string, bool) {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value, true
	}
	return "", false
}

// scalar is the text of a single value as the file writes it: "15m",
// "0x1F" and "true" stay text (stella parses its own values), and a null
// is empty.
func (d *doc) scalar(n ast.Node, where string) (string, error) {
	switch t := d.resolve(n).(type) {
	case nil, *ast.NullNode:
		return "", nil
	case *ast.StringNode:
		return t.Value, nil
	case *ast.LiteralNode:
		if t.Value == nil {
			return "", nil
		}
		return t.Value.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return t.GetToken().Value, nil
	default:
		return "", usageErr(d.path, line(n), where+" must be a single value, not a list or mapping", "Write it as Key: value; scopes are one space-separated string.")
	}
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
