package rules

import (
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// New builds the analyzer from a configuration.
func New(cfg Config) *analysis.Analyzer {
	c := &checker{cfg: cfg}
	return &analysis.Analyzer{
		Name: "audit",
		Doc:  "enforces stella's architecture: layer dependencies, raw credentials, secret reveals, HTTP clients, exits",
		Run:  c.run,
	}
}

type checker struct{ cfg Config }

// rel is a package path relative to the module, or "" outside it.
func (c *checker) rel(path string) (string, bool) {
	path = strings.TrimSuffix(path, "_test")
	if path == c.cfg.Module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, c.cfg.Module+"/")
	return r, ok
}

// match reports whether a module-relative path matches a pattern
// ("adapters/auth", or "tools/..." for a subtree).
func match(rel, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == p || strings.HasPrefix(rel, p+"/")
	}
	return rel == pattern
}

func matchAny(rel string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(rel, p) })
}

// adapterOf names the adapter a module-relative path belongs to.
func (c *checker) adapterOf(rel string) string {
	r, ok := strings.CutPrefix(rel, c.cfg.Adapters+"/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(r, "/")
	return c.cfg.Adapters + "/" + name
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func (c *checker) isTest(pass *analysis.Pass, pos token.Pos) bool {
	return strings.HasSuffix(pass.Fset.File(pos).Name(), "_test.go")
}

func (c *checker) run(pass *analysis.Pass) (any, error) {
	rel, inModule := c.rel(pass.Pkg.Path())
	// The generated main of a test binary is not our code.
	if !inModule || strings.HasSuffix(pass.Pkg.Path(), ".test") {
		return nil, nil
	}
	for _, f := range pass.Files {
		c.imports(pass, rel, f)
	}
	if matchAny(rel, c.cfg.Exempt) {
		return nil, nil
	}
	c.rawCredentials(pass, rel)
	c.credentialFields(pass, rel)
	c.calls(pass, rel)
	return nil, nil
}

// imports applies the dependency rules of ARCHITECTURE.md.
func (c *checker) imports(pass *analysis.Pass, rel string, f *ast.File) {
	test := c.isTest(pass, f.Pos())
	file := filepath.Base(pass.Fset.File(f.Pos()).Name())
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		report := func(rule, msg string) {
			pass.Reportf(spec.Pos(), "audit(%s): %s", rule, msg)
		}
		target, internal := c.rel(path)
		if path == c.cfg.KeyringPath && !match(rel, c.cfg.KeyringOwner) && !matchAny(rel, c.cfg.Exempt) {
			report("keyring", "only "+c.cfg.KeyringOwner+" may import "+path+"; reach the keychain through the ports.SessionStore it implements")
			continue
		}
		if matchAny(rel, c.cfg.Isolated) {
			if internal && !matchAny(target, c.cfg.Exempt) {
				report("isolated", rel+" must not import "+path+": the development Authority verifies with its own code so it cannot share the client's bugs")
			}
			continue
		}
		if matchAny(rel, c.cfg.Exempt) {
			continue
		}
		switch {
		case rel == c.cfg.Domain:
			if !isStd(path) && !test {
				report("layer-domain", "domain must import only the standard library, not "+path+"; move the dependency to an adapter behind a port")
			}
		case rel == c.cfg.Ports:
			if !isStd(path) && !(internal && target == c.cfg.Domain) && !test {
				report("layer-ports", "ports may import only domain and the standard library, not "+path+"; define the interface in terms of domain types")
			}
		case rel == c.cfg.App:
			switch {
			case isStd(path), internal && (target == c.cfg.Domain || target == c.cfg.Ports):
			case path == c.cfg.FxPath && file == c.cfg.AppFxFile:
			case test && !internal:
			default:
				report("layer-app", "app may import only domain, ports and the standard library (fx only in "+c.cfg.AppFxFile+"), not "+path+"; depend on a port and let cmd/stella inject the adapter")
			}
		case c.adapterOf(rel) != "":
			own := c.adapterOf(rel)
			switch {
			case !internal:
			case target == c.cfg.Domain || target == c.cfg.Ports:
			case c.adapterOf(target) == own:
			case test && matchAny(target, c.cfg.SharedTestAdapters):
			case target == c.cfg.App:
				report("layer-adapter", own+" must not import app; an adapter implements ports and knows nothing of the use cases")
			case c.adapterOf(target) != "":
				report("layer-adapter", own+" must not import another adapter ("+target+"); share through a port or domain type, wired in cmd/stella")
			default:
				report("layer-adapter", own+" must not import "+target+"; adapters depend on domain and ports only")
			}
		case rel == c.cfg.Root || strings.HasPrefix(rel, c.cfg.Root+"/"):
		default:
			if internal && c.adapterOf(target) != "" {
				report("composition-root", "only "+c.cfg.Root+" may import adapters ("+target+"); take the port instead")
			}
		}
	}
}

// rawCredentials reports any expression, declaration or alias whose type
// involves the OAuth library's raw token, outside its owner — wherever it
// comes from: an import, a return value, a field, an alias, an embedding.
func (c *checker) rawCredentials(pass *analysis.Pass, rel string) {
	if match(rel, c.cfg.RawCredentialOwner) {
		return
	}
	seen := map[token.Pos]bool{}
	report := func(pos token.Pos, what string) {
		if seen[pos] {
			return
		}
		seen[pos] = true
		pass.Reportf(pos, "audit(raw-credential): %s involves %s.%s outside %s; return domain.Grant / domain.Secret from the authentication adapter instead",
			what, c.cfg.RawTokenPkg, c.cfg.RawTokenName, c.cfg.RawCredentialOwner)
	}
	for id, obj := range pass.TypesInfo.Defs {
		if obj != nil && c.involvesRaw(obj.Type()) {
			report(id.Pos(), "declaration of "+id.Name)
		}
	}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			if tv, ok := pass.TypesInfo.Types[e]; ok && c.involvesRaw(tv.Type) {
				report(e.Pos(), "expression")
				return false
			}
			return true
		})
	}
}

func (c *checker) involvesRaw(t types.Type) bool {
	return involves(t, func(n *types.Named) bool {
		o := n.Obj()
		return o.Pkg() != nil && o.Pkg().Path() == c.cfg.RawTokenPkg && o.Name() == c.cfg.RawTokenName
	}, map[types.Type]bool{})
}

// involves walks a type's structure (not the underlying type of named
// project types, which are checked where they are declared).
func involves(t types.Type, hit func(*types.Named) bool, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Alias:
		return involves(types.Unalias(t), hit, seen)
	case *types.Named:
		if hit(t) {
			return true
		}
		if args := t.TypeArgs(); args != nil {
			for i := range args.Len() {
				if involves(args.At(i), hit, seen) {
					return true
				}
			}
		}
		return false
	case *types.Pointer:
		return involves(t.Elem(), hit, seen)
	case *types.Slice:
		return involves(t.Elem(), hit, seen)
	case *types.Array:
		return involves(t.Elem(), hit, seen)
	case *types.Chan:
		return involves(t.Elem(), hit, seen)
	case *types.Map:
		return involves(t.Key(), hit, seen) || involves(t.Elem(), hit, seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if involves(t.Field(i).Type(), hit, seen) {
				return true
			}
		}
	case *types.Tuple:
		for i := range t.Len() {
			if involves(t.At(i).Type(), hit, seen) {
				return true
			}
		}
	case *types.Signature:
		return involves(t.Params(), hit, seen) || involves(t.Results(), hit, seen)
	}
	return false
}

// credentialFields reports exported structs that keep a secret in a plain
// string or []byte field: such a value prints itself in logs and errors.
func (c *checker) credentialFields(pass *analysis.Pass, rel string) {
	if match(rel, c.cfg.RawCredentialOwner) {
		return
	}
	for _, f := range pass.Files {
		if c.isTest(pass, f.Pos()) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				t := pass.TypesInfo.TypeOf(fld.Type)
				if !isStringish(t) {
					continue
				}
				for _, name := range fld.Names {
					if c.credentialName(name.Name) {
						pass.Reportf(name.Pos(), "audit(credential-field): %s.%s holds a credential in a plain %s; use domain.Secret, which prints [redacted]",
							ts.Name.Name, name.Name, types.TypeString(t, nil))
					}
				}
			}
			return true
		})
	}
}

func isStringish(t types.Type) bool {
	if t == nil {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() == types.String
	case *types.Slice:
		b, ok := u.Elem().Underlying().(*types.Basic)
		return ok && b.Kind() == types.Byte
	}
	return false
}

func (c *checker) credentialName(name string) bool {
	if slices.Contains(c.cfg.CredentialFieldAllowed, name) {
		return false
	}
	lower := strings.ToLower(name)
	for _, s := range c.cfg.CredentialFieldSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// calls checks who reveals secrets, who builds HTTP clients, who exits.
func (c *checker) calls(pass *analysis.Pass, rel string) {
	revealOK := rel == c.cfg.Domain || matchAny(rel, c.cfg.RevealAllowed)
	httpOK := matchAny(rel, c.cfg.HTTPClientAllowed)
	rawOK := match(rel, c.cfg.RawCredentialOwner)
	for _, f := range pass.Files {
		test := c.isTest(pass, f.Pos())
		file := pass.Fset.File(f.Pos()).Name()
		exitOK := test || strings.HasSuffix(filepath.ToSlash(file), c.cfg.ExitAllowedFile) && rel == filepath.ToSlash(filepath.Dir(c.cfg.ExitAllowedFile))
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if !httpOK && !test && c.isHTTPClientType(pass.TypesInfo.TypeOf(n)) {
					pass.Reportf(n.Pos(), "audit(http-client): only %s construct HTTP clients and transports; send backend calls through ports.Backend",
						strings.Join(c.cfg.HTTPClientAllowed, " and "))
				}
			case *ast.CallExpr:
				c.call(pass, n, revealOK || test, httpOK || test, exitOK, rawOK)
			case *ast.SelectorExpr:
				if obj, ok := pass.TypesInfo.Uses[n.Sel].(*types.Var); ok && !httpOK && !test && obj.Pkg() != nil &&
					obj.Pkg().Path() == "net/http" && (obj.Name() == "DefaultClient" || obj.Name() == "DefaultTransport") {
					pass.Reportf(n.Pos(), "audit(http-client): http.%s bypasses the authenticated transport; use ports.Backend", obj.Name())
				}
			}
			return true
		})
	}
}

func (c *checker) isHTTPClientType(t types.Type) bool {
	if t == nil {
		return false
	}
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "net/http" {
		return false
	}
	return n.Obj().Name() == "Client" || n.Obj().Name() == "Transport"
}

func (c *checker) call(pass *analysis.Pass, call *ast.CallExpr, revealOK, httpOK, exitOK, rawOK bool) {
	var fn types.Object
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		fn = pass.TypesInfo.Uses[f]
	case *ast.SelectorExpr:
		fn = pass.TypesInfo.Uses[f.Sel]
	case *ast.IndexExpr:
		if id, ok := f.X.(*ast.Ident); ok {
			fn = pass.TypesInfo.Uses[id]
		}
	}
	if b, ok := fn.(*types.Builtin); ok {
		if b.Name() == "panic" && !exitOK {
			pass.Reportf(call.Pos(), "audit(exit): panic outside %s; return an error with a domain kind instead", c.cfg.ExitAllowedFile)
		}
		if b.Name() == "new" && !httpOK && len(call.Args) == 1 && c.isHTTPClientType(pass.TypesInfo.TypeOf(call.Args[0])) {
			pass.Reportf(call.Pos(), "audit(http-client): only %s construct HTTP clients and transports; send backend calls through ports.Backend",
				strings.Join(c.cfg.HTTPClientAllowed, " and "))
		}
		return
	}
	f, ok := fn.(*types.Func)
	if !ok || f.Pkg() == nil {
		return
	}
	pkg, name := f.Pkg().Path(), f.Name()
	recv := ""
	if sig, ok := f.Type().(*types.Signature); ok && sig.Recv() != nil {
		rt := sig.Recv().Type()
		if p, ok := rt.(*types.Pointer); ok {
			rt = p.Elem()
		}
		if n, ok := types.Unalias(rt).(*types.Named); ok {
			recv = n.Obj().Name()
		}
	}
	qualified := name
	if recv != "" {
		qualified = recv + "." + name
	}
	switch {
	case pkg == c.cfg.Module+"/"+c.cfg.Domain && slices.Contains(c.cfg.RevealFuncs, qualified) && !revealOK:
		pass.Reportf(call.Pos(), "audit(reveal): %s may be called only by %s; pass the domain.Secret along instead of its value",
			qualified, strings.Join(c.cfg.RevealAllowed, ", "))
	case pkg == c.cfg.RawTokenPkg && name == c.cfg.PasswordGrantMethod && !rawOK:
		pass.Reportf(call.Pos(), "audit(raw-credential): the password grant is confined to %s; call ports.Authority.Password", c.cfg.RawCredentialOwner)
	case pkg == "net/http" && !httpOK && (recv == "" && slices.Contains([]string{"Get", "Post", "PostForm", "Head"}, name) || recv == "Transport" && name == "Clone"):
		pass.Reportf(call.Pos(), "audit(http-client): http.%s bypasses the authenticated transport; use ports.Backend", qualified)
	case !exitOK && (pkg == "os" && name == "Exit" || pkg == "log" && (strings.HasPrefix(name, "Fatal") || strings.HasPrefix(name, "Panic"))):
		pass.Reportf(call.Pos(), "audit(exit): %s.%s outside %s; return an error with a domain kind so the exit code is decided in one place",
			f.Pkg().Name(), name, c.cfg.ExitAllowedFile)
	}
}
