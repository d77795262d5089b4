package rules

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// New builds the analyzer from a configuration.
func New(cfg Config) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "audit",
		Doc: "enforce stella's architecture rules\n\n" +
			"audit checks the layer dependencies (domain, ports, app, adapters, composition root,\n" +
			"tools/devauthority), confines raw OAuth credentials, the keyring and secret reveals\n" +
			"to their owners, HTTP clients to the transport, process exits to main.go,\n" +
			"the standard streams to the sanitising writers of adapters/term, and servers'\n" +
			"text to domain.Untrusted, whose only ways out outside domain sanitise it.",
		// The repository grows while it is checked: a package that does
		// not compile yet still has its imports and resolved names checked.
		RunDespiteErrors: true,
		Run: func(pass *analysis.Pass) (any, error) {
			// A test binary's generated main is not our code.
			if strings.HasSuffix(pass.Pkg.Path(), ".test") {
				return nil, nil
			}
			// An external test package (x_test) lives where x lives.
			rel, ok := relPath(cfg.Module, strings.TrimSuffix(pass.Pkg.Path(), "_test"))
			if !ok {
				return nil, nil
			}
			a := &audit{cfg: cfg, pass: pass, rel: rel, reported: map[string]bool{}}
			for _, f := range pass.Files {
				a.imports(f)
			}
			a.rawCredentials()
			a.credentialFields()
			a.references()
			a.untrusted()
			return nil, nil
		},
	}
}

// audit checks one package.
type audit struct {
	cfg      Config
	pass     *analysis.Pass
	rel      string // the package path relative to the module
	reported map[string]bool
}

// report reports once per line and group: a line that leaks a raw token
// through a declaration, a call and a conversion is one finding.
func (a *audit) report(group string, pos token.Pos, rule, format string, args ...any) {
	p := a.pass.Fset.Position(pos)
	key := fmt.Sprintf("%s:%s:%d", group, p.Filename, p.Line)
	if a.reported[key] {
		return
	}
	a.reported[key] = true
	a.pass.Report(analysis.Diagnostic{Pos: pos, Category: rule, Message: "audit(" + rule + "): " + fmt.Sprintf(format, args...)})
}

// qualifier names other packages by their name, as the source does.
func (a *audit) qualifier(p *types.Package) string {
	if p == a.pass.Pkg {
		return ""
	}
	return p.Name()
}

func (a *audit) isTest(f *ast.File) bool {
	return strings.HasSuffix(a.pass.Fset.File(f.FileStart).Name(), "_test.go")
}

func (a *audit) fileName(f *ast.File) string {
	return path.Base(strings.ReplaceAll(a.pass.Fset.File(f.FileStart).Name(), `\`, "/"))
}

// imports applies the dependency rules to one file's imports.
func (a *audit) imports(f *ast.File) {
	test, file := a.isTest(f), a.fileName(f)
	rc := a.cfg.RawCredential
	layer, unit := a.layer()
	for _, spec := range f.Imports {
		imp, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(rc.Keyring, func(root string) bool { return under(imp, root) }) && !test &&
			!matchAny(a.rel, rc.KeyringOwner) && !matchAny(a.rel, rc.Exempt) {
			a.report("keyring", spec.Pos(), "keyring", "only %s may import %s; reach the keychain through the port it implements",
				list(rc.KeyringOwner), imp)
		}
		if slices.ContainsFunc(rc.Fleet, func(root string) bool { return under(imp, root) }) && !test &&
			!matchAny(a.rel, rc.FleetOwner) && !matchAny(a.rel, rc.Exempt) {
			a.report("fleetcache", spec.Pos(), "fleetcache", "only %s may import %s; reach the shared cache through the ports it implements",
				list(rc.FleetOwner), imp)
		}
		if h := a.cfg.Helper; slices.ContainsFunc(h.Libraries, func(root string) bool { return under(imp, root) }) && !test &&
			!matchAny(a.rel, h.Owner) {
			a.report("helper", spec.Pos(), "helper", "only %s may import %s: its package initialisation would cost every stella start; run it in its helper program (cmd/stella-jq)",
				list(h.Owner), imp)
		}
		target, internal := relPath(a.cfg.Module, imp)
		switch {
		case layer != nil:
			if !a.layerAllows(layer, unit, imp, target, internal, test, file) {
				a.report("layer", spec.Pos(), "layer-"+layer.Name, "%s (%s imports %s); %s", layer.Rule, a.rel, imp, layer.Hint)
			}
		case matchAny(a.rel, a.cfg.Root), matchAny(a.rel, a.cfg.LayerExempt), test:
		case internal && match(target, a.cfg.Adapters):
			a.report("layer", spec.Pos(), "composition-root", "only %s may import adapters (%s imports %s); depend on a port and let the composition root choose the adapter",
				list(a.cfg.Root), a.rel, imp)
		}
	}
}

// layer finds the package's layer and its unit within it.
func (a *audit) layer() (*Layer, string) {
	for i := range a.cfg.Layers {
		if unit, ok := matchUnit(a.rel, a.cfg.Layers[i].Packages); ok {
			return &a.cfg.Layers[i], unit
		}
	}
	return nil, ""
}

func (a *audit) layerAllows(l *Layer, unit, imp, target string, internal, test bool, file string) bool {
	switch {
	case slices.Contains(l.FileImports[file], imp):
		return true
	case !internal:
		return isStd(imp) || l.ThirdParty || test && l.TestThirdParty
	case target == unit || strings.HasPrefix(target, unit+"/"):
		return true
	}
	return matchAny(target, l.Imports) || test && matchAny(target, l.TestImports)
}

// rawCredentials reports every expression and declaration whose type
// involves a raw credential type outside its owner, however it got there:
// an import, a result of another package's function, a field, an alias, an
// embedding, a literal or a conversion. And it reports the raw grants.
func (a *audit) rawCredentials() {
	rc := a.cfg.RawCredential
	if matchAny(a.rel, rc.Owner) || matchAny(a.rel, rc.Exempt) {
		return
	}
	info := a.pass.TypesInfo
	owner := list(rc.Owner)
	for _, f := range a.pass.Files {
		if a.isTest(f) {
			continue
		}
		// The raw grants first: their call is also an expression of a raw
		// type, and the grant is the better message.
		ast.Inspect(f, func(n ast.Node) bool {
			var id *ast.Ident
			switch n := n.(type) {
			case *ast.SelectorExpr:
				id = n.Sel
			case *ast.Ident:
				id = n
			default:
				return true
			}
			if fn := lookup(info.Uses[id], rc.Funcs); fn != nil {
				a.report("raw", n.Pos(), "password-grant", "%s is a raw credential grant, confined to %s; call the port (ports.Authority.Password) instead",
					fn.Name, owner)
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.StructType, *ast.FuncType, *ast.InterfaceType, *ast.FuncLit:
				return true // report the field, parameter or statement, not the whole
			}
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			t := info.TypeOf(e)
			if raw := a.rawIn(t); raw != "" {
				a.report("raw", e.Pos(), "raw-token", "raw credential type %s outside %s (here %s); hand out domain.Grant, domain.Token or domain.Secret instead",
					raw, owner, types.TypeString(t, a.qualifier))
				return false
			}
			return true
		})
	}
}

// rawIn names the raw credential type t involves, or "".
func (a *audit) rawIn(t types.Type) string {
	var found string
	involves(t, func(n *types.Named) bool {
		if fn := lookup(n.Obj(), a.cfg.RawCredential.Types); fn != nil {
			found = n.Obj().Pkg().Name() + "." + fn.Name
			return true
		}
		return false
	}, map[types.Type]bool{})
	return found
}

// involves walks a type's structure. It does not open named types other
// than through their type arguments: a named type's fields are checked
// where the type is declared, and reading one yields its own type.
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
		for arg := range t.TypeArgs().Types() {
			if involves(arg, hit, seen) {
				return true
			}
		}
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
		for field := range t.Fields() {
			if involves(field.Type(), hit, seen) {
				return true
			}
		}
	case *types.Tuple:
		for v := range t.Variables() {
			if involves(v.Type(), hit, seen) {
				return true
			}
		}
	case *types.Signature:
		return involves(t.Params(), hit, seen) || involves(t.Results(), hit, seen)
	case *types.Interface:
		for m := range t.ExplicitMethods() {
			if involves(m.Type(), hit, seen) {
				return true
			}
		}
	}
	return false
}

// credentialFields reports exported structs that keep a credential in a
// plain string or []byte field: such a value prints itself in logs, errors
// and JSON, where domain.Secret prints [redacted].
func (a *audit) credentialFields() {
	rc := a.cfg.RawCredential
	if matchAny(a.rel, rc.Owner) || matchAny(a.rel, rc.Exempt) {
		return
	}
	for _, f := range a.pass.Files {
		if a.isTest(f) {
			continue
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok || !ts.Name.IsExported() {
					continue
				}
				for _, field := range st.Fields.List {
					t := a.pass.TypesInfo.TypeOf(field.Type)
					if !isStringish(t) {
						continue
					}
					for _, name := range field.Names {
						if a.credentialName(ts.Name.Name, name.Name) {
							a.report("field", name.Pos(), "credential-field", "%s.%s holds a credential in a plain %s; use domain.Secret, which prints [redacted]",
								ts.Name.Name, name.Name, types.TypeString(t, a.qualifier))
						}
					}
				}
			}
		}
	}
}

func isStringish(t types.Type) bool {
	if t == nil {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Info()&types.IsString != 0
	case *types.Slice:
		b, ok := u.Elem().Underlying().(*types.Basic)
		return ok && b.Kind() == types.Byte
	}
	return false
}

// credentialName matches whole names and suffixes, never substrings:
// ClientSecret and IDToken hold credentials, TokenType and SecretFile do not.
func (a *audit) credentialName(typ, field string) bool {
	rc := a.cfg.RawCredential
	if slices.Contains(rc.FieldAllowed, field) || slices.Contains(rc.FieldAllowed, a.rel+"."+typ+"."+field) {
		return false
	}
	lower := strings.ToLower(field)
	for _, s := range rc.FieldSuffixes {
		if strings.HasSuffix(lower, strings.ToLower(s)) {
			return true
		}
	}
	return slices.ContainsFunc(rc.FieldNames, func(s string) bool { return strings.EqualFold(field, s) })
}

// references checks who reveals secrets, who builds HTTP clients and who
// ends the process, by what each identifier resolves to: a method of the
// same name on another type, or a local look-alike, is not reported.
func (a *audit) references() {
	info := a.pass.TypesInfo
	rv, h, ex, tm := a.cfg.Reveal, a.cfg.HTTP, a.cfg.Exit, a.cfg.Terminal
	httpOff := matchAny(a.rel, h.Allowed) || matchAny(a.rel, h.Exempt)
	termOff := matchAny(a.rel, tm.Allowed) || matchAny(a.rel, tm.Exempt)
	revealOff := matchAny(a.rel, rv.Allowed)
	exitMainOff := a.pass.Pkg.Name() == "main" && matchAny(a.rel, ex.ExemptMains)
	for _, f := range a.pass.Files {
		if a.isTest(f) {
			continue
		}
		exitOff := exitMainOff || slices.Contains(ex.AllowedFiles, a.rel+"/"+a.fileName(f))
		construct := func(pos token.Pos, t types.Type) {
			if t == nil || httpOff {
				return
			}
			if n, ok := types.Unalias(t).(*types.Named); ok && lookup(n.Obj(), h.Types) != nil {
				a.report("http", pos, "http-client", "http.%s built outside %s; send requests through the authenticated transport (ports.Backend)",
					n.Obj().Name(), list(h.Allowed))
			}
		}
		sels := map[*ast.Ident]ast.Node{}
		ast.Inspect(f, func(n ast.Node) bool {
			var id *ast.Ident
			at := n
			switch n := n.(type) {
			case *ast.CompositeLit:
				construct(n.Pos(), info.TypeOf(n))
				return true
			case *ast.CallExpr:
				if b, ok := info.Uses[identOf(n.Fun)].(*types.Builtin); ok && b.Name() == "new" && len(n.Args) == 1 {
					construct(n.Pos(), info.TypeOf(n.Args[0]))
				}
				return true
			case *ast.SelectorExpr:
				sels[n.Sel] = n
				return true
			case *ast.Ident:
				id = n
				if s, ok := sels[n]; ok {
					at = s
				}
				if v, ok := info.Defs[n].(*types.Var); ok && v.Kind() != types.ParamVar && v.Kind() != types.ResultVar && v.Kind() != types.RecvVar {
					construct(n.Pos(), v.Type()) // var c http.Client: a zero client is a client
				}
			default:
				return true
			}
			obj := info.Uses[id]
			switch {
			case obj == nil:
			case !revealOff && lookup(obj, rv.Funcs) != nil:
				a.report("reveal", at.Pos(), "reveal", "%s reveals a secret outside %s; pass the domain.Secret along instead of its value",
					lookup(obj, rv.Funcs).Name, list(rv.Allowed))
			case !httpOff && lookup(obj, h.Uses) != nil:
				a.report("http", at.Pos(), "http-client", "http.%s bypasses the authenticated transport; only %s build HTTP clients, the rest send requests through ports.Backend",
					lookup(obj, h.Uses).Name, list(h.Allowed))
			case !termOff && lookup(obj, tm.Uses) != nil:
				fn := lookup(obj, tm.Uses)
				name := fn.Name
				if fn.Path != "" {
					name = path.Base(fn.Path) + "." + fn.Name
				}
				a.report("terminal", at.Pos(), "terminal", "%s writes to the terminal outside %s; print through the Runtime's Out/Err or the console and logger, which sanitise servers' and files' text (SPEC §6)",
					name, list(tm.Allowed))
			case !exitOff && lookup(obj, ex.Funcs) != nil:
				fn := lookup(obj, ex.Funcs)
				name := fn.Name
				if fn.Path != "" {
					name = path.Base(fn.Path) + "." + fn.Name
				}
				a.report("exit", at.Pos(), "exit", "%s outside %s; return an error with a domain kind so the exit code is decided in one place",
					name, list(ex.AllowedFiles))
			}
			return true
		})
	}
}

// untrusted reports every way a server's text could leave its Untrusted
// type other than sanitised: a conversion to another type, Raw, indexing
// or ranging over its bytes, and a type argument whose constraint admits
// only strings (the generic body could convert it). Converting to
// Untrusted, comparing, slicing (still Untrusted) and printing it are fine.
func (a *audit) untrusted() {
	ut := a.cfg.Untrusted
	if ut.Type.Name == "" || matchAny(a.rel, ut.Allowed) || matchAny(a.rel, ut.Exempt) {
		return
	}
	info := a.pass.TypesInfo
	is := func(t types.Type) bool {
		n, ok := types.Unalias(t).(*types.Named)
		return t != nil && ok && lookup(n.Obj(), []Func{ut.Type}) != nil
	}
	name := path.Base(ut.Type.Path) + "." + ut.Type.Name
	where := list(ut.Allowed)
	const fix = "print the value itself (String, Cut, %s and every fmt verb sanitise it, SPEC §6), or parse it into stella's own type where it is validated"
	for _, f := range a.pass.Files {
		if a.isTest(f) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if tv, ok := info.Types[n.Fun]; ok && tv.IsType() && len(n.Args) == 1 && is(info.TypeOf(n.Args[0])) && !is(tv.Type) {
					a.report("untrusted", n.Pos(), "untrusted", "converting %s to %s hands out the server's raw text outside %s; %s",
						name, types.TypeString(tv.Type, a.qualifier), where, fix)
				}
			case *ast.IndexExpr:
				if is(info.TypeOf(n.X)) {
					a.report("untrusted", n.Pos(), "untrusted", "indexing a %s reads the server's raw bytes outside %s; %s", name, where, fix)
				}
			case *ast.RangeStmt:
				if is(info.TypeOf(n.X)) {
					a.report("untrusted", n.Pos(), "untrusted", "ranging over a %s reads the server's raw runes outside %s; %s", name, where, fix)
				}
			case *ast.Ident:
				if fn := lookup(info.Uses[n], ut.Raw); fn != nil {
					a.report("untrusted", n.Pos(), "untrusted", "%s hands out the server's raw text outside %s; %s", fn.Name, where, fix)
				}
			}
			return true
		})
	}
	for id, inst := range info.Instances {
		if a.isTestPos(id.Pos()) {
			continue
		}
		var params *types.TypeParamList
		switch obj := info.Uses[id].(type) {
		case *types.Func:
			params = obj.Signature().TypeParams()
		case *types.TypeName:
			if n, ok := types.Unalias(obj.Type()).(*types.Named); ok {
				params = n.Origin().TypeParams()
			}
		}
		for i := 0; params != nil && i < inst.TypeArgs.Len() && i < params.Len(); i++ {
			if is(inst.TypeArgs.At(i)) && onlyStrings(params.At(i).Constraint(), map[types.Type]bool{}) {
				a.report("untrusted", id.Pos(), "untrusted", "%s as the type argument of %s, whose constraint admits only strings, lets its body convert the server's raw text outside %s; %s",
					name, id.Name, where, fix)
			}
		}
	}
}

// isTestPos reports whether pos is in a _test.go file.
func (a *audit) isTestPos(pos token.Pos) bool {
	return strings.HasSuffix(a.pass.Fset.Position(pos).Filename, "_test.go")
}

// onlyStrings reports whether a constraint's type set holds only strings
// and byte or rune slices: a generic body may convert such a T to string.
// The type set is the intersection of the interface's elements, so one
// element made only of such terms is enough; "any", comparable and method
// sets are not.
func onlyStrings(c types.Type, seen map[types.Type]bool) bool {
	if c == nil || seen[c] {
		return false
	}
	seen[c] = true
	iface, ok := c.Underlying().(*types.Interface)
	if !ok {
		return stringLike(c)
	}
	for i := 0; i < iface.NumEmbeddeds(); i++ {
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			all := e.Len() > 0
			for j := 0; j < e.Len(); j++ {
				t := e.Term(j).Type()
				if _, isIface := t.Underlying().(*types.Interface); isIface {
					all = all && onlyStrings(t, seen)
				} else {
					all = all && stringLike(t)
				}
			}
			if all {
				return true
			}
		default:
			if onlyStrings(e, seen) {
				return true
			}
		}
	}
	return false
}

// stringLike reports the types a conversion to string accepts as text.
func stringLike(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Info()&types.IsString != 0
	case *types.Slice:
		b, ok := u.Elem().Underlying().(*types.Basic)
		return ok && (b.Kind() == types.Byte || b.Kind() == types.Rune)
	}
	return false
}

func identOf(e ast.Expr) *ast.Ident {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return e
	case *ast.SelectorExpr:
		return e.Sel
	}
	return nil
}

// lookup finds obj among the configured names: a package-level object
// ("Get"), a method ("Transport.Clone") or a builtin (empty Path).
func lookup(obj types.Object, names []Func) *Func {
	if obj == nil {
		return nil
	}
	var pkg, name string
	switch obj := obj.(type) {
	case *types.Builtin:
		name = obj.Name()
	case *types.Func:
		if obj.Pkg() == nil {
			return nil // error.Error
		}
		pkg, name = obj.Pkg().Path(), obj.Name()
		if recv := obj.Signature().Recv(); recv != nil {
			t := recv.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			n, ok := types.Unalias(t).(*types.Named)
			if !ok {
				return nil // an interface method
			}
			name = n.Obj().Name() + "." + name
		}
	default:
		if obj.Pkg() == nil || obj.Parent() != obj.Pkg().Scope() {
			return nil // a field, a local or a universe object
		}
		pkg, name = obj.Pkg().Path(), obj.Name()
	}
	for i := range names {
		if names[i].Path == pkg && names[i].Name == name {
			return &names[i]
		}
	}
	return nil
}

// relPath makes an import path relative to the module; "." is the module's
// root package.
func relPath(module, p string) (string, bool) {
	if p == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(p, module+"/")
	return r, ok
}

// under reports whether p is root or below it.
func under(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// isStd reports whether an import path is the standard library's: its
// first element has no dot.
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// matchUnit matches a module-relative path against a pattern ("*" for one
// element, a trailing "/..." for the subtree) and returns the unit: the part
// the pattern matched before "/...".
func matchUnit(rel, pattern string) (string, bool) {
	pat := strings.Split(pattern, "/")
	sub := pat[len(pat)-1] == "..."
	if sub {
		pat = pat[:len(pat)-1]
	}
	el := strings.Split(rel, "/")
	if len(el) < len(pat) || !sub && len(el) != len(pat) {
		return "", false
	}
	for i, p := range pat {
		if p != "*" && p != el[i] {
			return "", false
		}
	}
	return strings.Join(el[:len(pat)], "/"), true
}

func match(rel, pattern string) bool {
	_, ok := matchUnit(rel, pattern)
	return ok
}

func matchAny(rel string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(rel, p) })
}

// list shows patterns as the folders they name.
func list(patterns []string) string {
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = strings.TrimSuffix(p, "/...")
	}
	return strings.Join(out, ", ")
}
