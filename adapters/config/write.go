package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

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
	return rewrite(configDir, func(root *yaml.Node) { set(child(child(root, "StellaOps"), "Authority"), key, value) })
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
	return rewrite(configDir, func(root *yaml.Node) { set(child(root, "StellaOps"), "ActiveProfile", name) })
}

// rewrite applies edit to config.yaml's document and writes it back
// atomically.
func rewrite(configDir string, edit func(root *yaml.Node)) (string, error) {
	path := filepath.Join(configDir, "config.yaml")
	// Read as every configuration file is read: a FIFO or a device in its
	// place must not hang or exhaust the command (SPEC §6).
	b, err := readConfigFile(path, true)
	if err != nil {
		return "", err
	}
	if len(b) > 0 {
		// Refuse to rewrite a file stella could not read in the first place.
		if _, err := parseLayer(path, b); err != nil {
			return "", err
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", domain.Wrap(domain.KindUsage, err, path+" is not valid YAML", "Fix the file, then try again.")
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	edit(doc.Content[0])
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", domain.Wrap(domain.KindUnexpected, err, "cannot encode "+path, "")
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot create "+configDir, "Check STELLA_CONFIG_DIR and its permissions.")
	}
	tmp, err := os.CreateTemp(configDir, ".config.yaml.tmp-*")
	if err != nil {
		return "", domain.Wrap(domain.KindUsage, err, "cannot write in "+configDir, "Check its permissions.")
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out.Bytes()); err == nil {
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

// child returns the mapping under key in m, creating it when absent.
func child(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind != yaml.MappingNode {
				*v = yaml.Node{Kind: yaml.MappingNode}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

// set sets the scalar key in m to value.
func set(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}
