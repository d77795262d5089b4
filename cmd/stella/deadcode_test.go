package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestLinkerDropsUnusedMethods fails when anything stella links can look a
// method up by a name it computes (reflect's MethodByName with a variable,
// Method(i)). The Go linker then keeps every exported method of every type
// stored in an interface, since any could be called: go-redis alone brings
// thousands, and `stella version` starts up to 0.2× the baseline slower (README,
// Performance). kong is patched for this (third_party/kong/STELLA.md); the
// test names the chain that reaches the lookup, so the next one is found
// where it comes in.
func TestLinkerDropsUnusedMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("links stella (a few seconds)")
	}
	cmd := exec.Command("go", "build", "-o", t.TempDir()+"/stella", "-ldflags=-dumpdep", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, stderr.String())
	}
	// Each line is "parent -> symbol": the edge by which the linker first
	// reached symbol, flags such as <ReflectMethod> after the names.
	parent := map[string]string{}
	var first string
	sc := bufio.NewScanner(bytes.NewReader(append(out, stderr.Bytes()...)))
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(to, " ")
		fromName, _, _ := strings.Cut(from, " ")
		parent[name] = fromName
		if first == "" && strings.Contains(to, "<ReflectMethod>") {
			first = name
		}
	}
	if len(parent) == 0 {
		t.Fatal("go build -ldflags=-dumpdep printed no edges: the check cannot see the linker's graph")
	}
	if first == "" {
		return
	}
	chain := []string{first}
	for s := parent[first]; s != "" && s != "_" && len(chain) < 40; s = parent[s] {
		chain = append(chain, s)
	}
	t.Errorf("%s looks methods up by a computed name, so the linker keeps every exported method; reached by:\n  %s",
		first, strings.Join(chain, "\n  <- "))
}
