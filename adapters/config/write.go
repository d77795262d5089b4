package config

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/stellaops/stella/domain"
)

// Remember writes StellaOps.Authority.<key>: value into
// <configDir>/config.yaml, keeping everything else the file says (and its
// comments), and returns the file's path. It is how a choice the user made
// at a prompt (file storage, say) is remembered for later commands.
func Remember(configDir, key, value string) (string, error) {
	if !contains(authorityKeys, key) {
		return "", domain.E(domain.KindUnexpected, "no such setting Authority."+key, "")
	}
	return rewrite(configDir, []string{"StellaOps", "Authority", key}, value)
}

// UseProfile records name as the active profile (StellaOps.ActiveProfile
// in config.yaml), the one used when neither --profile nor STELLA_PROFILE
// names another; it must exist.
func UseProfile(configDir, name string) (string, error) {
	if !validProfileName(name) {
		return "", domain.E(domain.KindUsage, fmt.Sprintf("profile name %q is not valid", domain.Printable(name, 80)),
			"Profile names use letters, digits, '.', '_' and '-' only.")
	}
	if err := profileExists(configDir, name); err != nil {
		return "", err
	}
	return rewrite(configDir, []string{"StellaOps", "ActiveProfile"}, name)
}

// rewrite sets the value at keys in config.yaml and writes the file back
// atomically. The rest of the file stays as written: its comments, its
// layout, its other settings. Before writing, the new text is read back
// the way every command reads it, and written only if it says value at
// keys and everything else it said before.
func rewrite(configDir string, keys []string, value string) (string, error) {
	path := filepath.Join(configDir, "config.yaml")
	// Read as every configuration file is read: a FIFO or a device in its
	// place must not hang or exhaust the command (SPEC §6).
	b, err := readConfigFile(path, true)
	if err != nil {
		return "", err
	}
	// Refuse to rewrite a file stella could not read in the first place.
	before, err := parseLayer(path, b)
	if err != nil {
		return "", err
	}
	setting := strings.Join(keys, ".")
	byHand := fmt.Sprintf("Set %s: %s in it by hand.", setting, value)
	out, err := setValue(b, keys, value)
	if err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot update "+path, byHand)
	}
	after, err := parseLayer(path, out)
	if err != nil || !onlyChanged(before, after, strings.Join(keys[1:], "."), value) {
		return "", domain.E(domain.KindUnexpected, "cannot update "+path+" without changing its other settings", byHand)
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot create "+configDir, "Check STELLA_CONFIG_DIR and its permissions.")
	}
	tmp, err := os.CreateTemp(configDir, ".config.yaml.tmp-*")
	if err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot write in "+configDir, "Check its permissions.")
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot write "+path, "Check the permissions of "+configDir+".")
	}
	return path, nil
}

// onlyChanged reports whether after holds value at key and, besides it,
// exactly the values before held (their lines may move).
func onlyChanged(before, after *fileLayer, key, value string) bool {
	if v, ok := after.values[key]; !ok || v.value != value {
		return false
	}
	text := func(l *fileLayer) map[string]string {
		m := map[string]string{}
		for k, v := range l.values {
			if k != key {
				m[k] = v.value
			}
		}
		return m
	}
	return maps.Equal(text(before), text(after))
}

// setValue returns b with the scalar at keys set to value: the keys that
// exist are kept with everything under them, the ones that do not are
// added at the indentation of their siblings.
func setValue(b []byte, keys []string, value string) (out []byte, err error) {
	defer func() {
		// The syntax tree's printer is a library working on a file anyone
		// may have written: a panic in it leaves the file as it was.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the YAML printer failed on this file")
		}
	}()
	snippet := nested(keys, value)
	f, err := parseYAML(b, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var root *ast.MappingNode
	for _, d := range f.Docs {
		if m, ok := d.Body.(*ast.MappingNode); ok {
			root = m
		}
	}
	if root == nil {
		// No mapping yet (a new file, or comments only): the comments stay
		// and the setting follows them.
		out = bytes.Clone(b)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		return append(out, snippet...), nil
	}
	sf, err := parseYAML([]byte(snippet), 0)
	if err != nil {
		return nil, err
	}
	if err := merge(root, sf.Docs[0].Body.(*ast.MappingNode)); err != nil {
		return nil, err
	}
	return []byte(f.String()), nil
}

// nested is keys and value as block YAML, two spaces a level.
func nested(keys []string, value string) string {
	var s strings.Builder
	for i, k := range keys {
		s.WriteString(strings.Repeat("  ", i) + k + ":")
		if i < len(keys)-1 {
			s.WriteString("\n")
		}
	}
	s.WriteString(" " + yamlScalar(value) + "\n")
	return s.String()
}

// yamlScalar writes value plain when YAML reads it back as the same text,
// and double-quoted otherwise (Go's escapes are YAML's).
func yamlScalar(value string) string {
	plain := value != "" && strings.IndexFunc(value, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/-", r))
	}) < 0
	switch strings.ToLower(value) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		plain = false
	}
	if plain && (value[0] < 'a' || value[0] > 'z') && (value[0] < 'A' || value[0] > 'Z') {
		plain = false // 0x1F, .5, -1: numbers to a YAML reader
	}
	if plain {
		return value
	}
	return strconv.Quote(value)
}

// merge sets src's values into dst, descending where both hold a mapping
// under one key.
func merge(dst, src *ast.MappingNode) error {
	for _, sv := range src.Values {
		k, _ := plainKey(sv.Key)
		var found *ast.MappingValueNode
		for _, dv := range dst.Values {
			if dk, ok := plainKey(dv.Key); ok && dk == k {
				found = dv
			}
		}
		sm, srcIsMapping := sv.Value.(*ast.MappingNode)
		dv := valueOf(found)
		if a, ok := dv.(*ast.AnchorNode); ok {
			// An anchored mapping is edited in place, as its own keys are;
			// rewrite refuses the result if an alias elsewhere would change.
			dv = a.Value
		}
		switch dm, dstIsMapping := dv.(*ast.MappingNode); {
		case found == nil:
			if len(dst.Values) > 0 {
				sv.AddColumn(column(dst.Values[0].Key) - column(sv.Key))
			}
			if dst.IsFlowStyle {
				sv.SetIsFlowStyle(true)
			}
			dst.Values = append(dst.Values, sv)
		case srcIsMapping && dstIsMapping:
			if err := merge(dm, sm); err != nil {
				return err
			}
		case srcIsMapping:
			if _, null := found.Value.(*ast.NullNode); !null {
				// An alias or a tag: what it names may be shared, or typed,
				// and stella will not rewrite through it.
				return fmt.Errorf("%s is written with an alias or a tag", k)
			}
			sv.Value.AddColumn(column(found.Key) + 2 - column(sv.Value))
			found.Value = sv.Value
		default:
			comment := found.Value.GetComment() // "# was auto" stays beside the new value
			if err := found.Replace(sv.Value); err != nil {
				return err
			}
			if comment != nil {
				if err := sv.Value.SetComment(comment); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func valueOf(mv *ast.MappingValueNode) ast.Node {
	if mv == nil {
		return nil
	}
	return mv.Value
}

// column is where n begins: for a mapping, its first key (the parser's
// token for a mapping is the first ':').
func column(n ast.Node) int {
	switch t := n.(type) {
	case *ast.MappingNode:
		if len(t.Values) > 0 {
			return column(t.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return column(t.Key)
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Column
	}
	return 0
}
