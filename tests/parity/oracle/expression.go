package main

// {{=...}} tags: util/template/expression_template.go evaluates the tag body with an
// expr program over util/expr/env GetFuncMap(vars).
//
// Argo v4.1 links expr-lang/expr v1.17.8; Debian bookworm ships antonmedv/expr 1.8.9.
// The gaps that matter are bridged or flagged here rather than hidden: v1.17's int(),
// float() and string() builtins are provided as functions, syntax and builtins 1.8.9
// lacks tag their compile error "ORACLE LIMITATION", and operators whose meaning changed
// (`/`, `^`) add an engine warning to the answer.

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	sprig "github.com/Masterminds/sprig"
	"github.com/antonmedv/expr"
	"github.com/antonmedv/expr/ast"
	"github.com/antonmedv/expr/parser"
	"github.com/antonmedv/expr/vm"
)

const engineNote = "expr engine here is Debian antonmedv/expr 1.8.9; Argo v4.1 pins expr-lang/expr v1.17.8"

// placeholderPrefix is util/template/placeholder.go PlaceholderPrefix: the controller's
// stand-in for a value it does not know yet.
const placeholderPrefix = "__argo__internal__placeholder-"

// lateBinding is expression_template.go variablesToCheck: variables that only exist at a
// later stage, so a lenient pass must not resolve an expression using them to nil.
var lateBinding = map[string]bool{
	"item": true, "retries": true, "lastRetry.exitCode": true, "lastRetry.status": true,
	"lastRetry.duration": true, "lastRetry.message": true, "workflow.status": true,
	"workflow.failures": true,
}

// tagResult is what evaluating one expression tag produced.
type tagResult struct {
	text       string      // what goes into the JSON text in place of the tag
	unresolved bool        // the tag was written back as it was
	value      interface{} // the expression's value, when it was evaluated
}

// expressionTag writes the outcome of one {{=...}} tag.
func (p pass) expressionTag(w io.Writer, expression string) (int, error) {
	res, err := p.evalTag(expression)
	if err != nil {
		return 0, err
	}
	return io.WriteString(w, res.text)
}

// evalTag is expressionReplaceStrict. `expression` is the tag body as it stands in the
// JSON text (still JSON-escaped, HTML escapes undone). A variable the expression reads
// that the scope lacks is an error when the pass is strict for it (Argo then waits for
// it); otherwise the tag may stay for a later pass. With nothing missing, a strict pass
// insists the expression evaluates.
func (p pass) evalTag(expression string) (tagResult, error) {
	env := exprEnv(p.vars)
	source, err := jsonUnquote(expression)
	if err != nil {
		return p.evalTagCore(expression, env, false)
	}
	missing, err := missingVariables(source, env)
	if err != nil {
		return p.evalTagCore(expression, env, false)
	}
	for _, name := range missing {
		if p.strict != nil && p.strict.MatchString(name) {
			return tagResult{}, fmt.Errorf("failed to evaluate expression: %s is missing", name)
		}
	}
	return p.evalTagCore(expression, env, len(missing) > 0 || p.strict == nil)
}

// evalTagCore is expressionReplaceCore: compile and run, and either insert the result or,
// when allowed, write the tag back unchanged.
func (p pass) evalTagCore(expression string, env map[string]interface{}, allowUnresolved bool) (tagResult, error) {
	writeBack := tagResult{text: "{{=" + expression + "}}", unresolved: true}
	// A placeholder anywhere in the scope means the controller is only pre-resolving:
	// failures are tolerated then.
	allowFailure := holdsPlaceholder(env)
	source, err := jsonUnquote(expression)
	if err != nil {
		if allowUnresolved {
			return writeBack, nil
		}
		return tagResult{}, fmt.Errorf("failed to unmarshall JSON expression: %w", err)
	}
	if allowUnresolved && readsLateBinding(source, env) {
		// Keeps e.g. {{=item}} from becoming nil before the items are expanded.
		return writeBack, nil
	}
	gap := engineGap(source)
	if warning := engineWarning(source); warning != "" && p.notes != nil {
		*p.notes = append(*p.notes, warning)
	}
	program, err := expr.Compile(source, expr.Env(env))
	if err != nil && !allowUnresolved && !allowFailure {
		if gap != "" {
			return tagResult{}, fmt.Errorf("failed to evaluate expression: %v [ORACLE LIMITATION: %s; %s]", err, gap, engineNote)
		}
		return tagResult{}, fmt.Errorf("failed to evaluate expression: %w", err)
	}
	var value interface{}
	if err == nil {
		value, err = runProgram(program, env)
	}
	if (err != nil || value == nil) && (allowUnresolved || allowFailure) {
		return writeBack, nil // a nil result counts as unresolved too
	}
	if err != nil {
		return tagResult{}, fmt.Errorf("failed to evaluate expression: %w", err)
	}
	if value == nil {
		return tagResult{}, fmt.Errorf("failed to evaluate expression %q", expression)
	}
	marshaled, err := json.Marshal(value)
	if err != nil {
		if allowUnresolved {
			return writeBack, nil
		}
		return tagResult{}, fmt.Errorf("failed to marshal evaluated expression: %w", err)
	}
	// A string goes in raw (the tag already sits inside a JSON string); anything else
	// goes in as its JSON text, escaped once more.
	if n := len(marshaled); n > 1 && marshaled[0] == '"' && marshaled[n-1] == '"' {
		return tagResult{text: string(marshaled[1 : n-1]), value: value}, nil
	}
	return tagResult{text: jsonStringBody(string(marshaled)), value: value}, nil
}

func jsonUnquote(body string) (string, error) {
	var s string
	err := json.Unmarshal([]byte(`"`+body+`"`), &s)
	return s, err
}

func runProgram(program *vm.Program, env map[string]interface{}) (value interface{}, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return expr.Run(program, env)
}

// ---------------------------------------------------------------------------
// The expression's environment (util/expr/env GetFuncMap, util/expand)
// ---------------------------------------------------------------------------

// exprEnv nests the dotted vars into maps ({"tasks.a.outputs.result": x} becomes
// tasks -> a -> outputs -> result) and adds Argo's functions.
func exprEnv(vars map[string]interface{}) map[string]interface{} {
	env := nestDotted(withoutShadowedParents(vars), "")
	env["asInt"] = toInt // env.go: aliases of expr-lang's int() and float() builtins
	env["asFloat"] = toFloat
	env["jsonpath"] = func(string, string) interface{} {
		panic("jsonpath() is not modelled by this oracle")
	}
	env["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	env["sprig"] = sprigFunctions()
	// expr-lang v1.17 builtins that expr 1.8.9 does not have.
	env["int"] = toInt
	env["float"] = toFloat
	env["string"] = func(v interface{}) interface{} { return fmt.Sprintf("%v", v) }
	return env
}

// withoutShadowedParents is expand.go removeConflicts: in sorted key order, a key that is
// immediately followed by one of its own dotted children is dropped.
func withoutShadowedParents(vars map[string]interface{}) map[string]interface{} {
	keys := sortedKeys(vars)
	kept := make(map[string]interface{}, len(vars))
	for i, k := range keys {
		if i+1 < len(keys) && strings.HasPrefix(keys[i+1], k+".") {
			continue
		}
		kept[k] = vars[k]
	}
	return kept
}

// nestDotted is bellows.Expand. Where a leaf and a map still compete for one segment
// bellows keeps whichever key Go's map iteration yields first; this takes the keys in
// sorted order, so the answer is at least the same on every run.
func nestDotted(flat map[string]interface{}, prefix string) map[string]interface{} {
	if prefix != "" {
		prefix += "."
	}
	nested := map[string]interface{}{}
	for _, k := range sortedKeys(flat) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		segment := k[len(prefix):]
		dot := strings.IndexByte(segment, '.')
		if dot >= 0 {
			segment = segment[:dot]
		}
		if _, taken := nested[segment]; taken {
			continue
		}
		if dot < 0 {
			nested[segment] = flat[k]
		} else {
			nested[segment] = nestDotted(flat, prefix+segment)
		}
	}
	return nested
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var sprigMap map[string]interface{}

// sprigFunctions is env.go's sprig map: sprig's generic functions without the two that
// read the controller's environment.
func sprigFunctions() map[string]interface{} {
	if sprigMap == nil {
		sprigMap = sprig.GenericFuncMap() // a fresh copy
		delete(sprigMap, "env")
		delete(sprigMap, "expandenv")
	}
	return sprigMap
}

// toInt is expr-lang v1.17 builtin.Int (Argo's asInt): numbers are converted, strings
// must be integers (asInt('5.0') fails).
func toInt(x interface{}) interface{} {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return int(v.Float())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(v.Uint())
	case reflect.String:
		i, err := strconv.Atoi(v.String())
		if err != nil {
			panic(fmt.Sprintf("invalid operation: int(%s)", v.String()))
		}
		return i
	}
	panic(fmt.Sprintf("invalid operation: int(%T)", x))
}

// toFloat is expr-lang v1.17 builtin.Float (Argo's asFloat).
func toFloat(x interface{}) interface{} {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	case reflect.String:
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			panic(fmt.Sprintf("invalid operation: float(%s)", v.String()))
		}
		return f
	}
	panic(fmt.Sprintf("invalid operation: float(%T)", x))
}

// holdsPlaceholder is expressionReplaceCore's maps.VisitMap walk for a placeholder string.
func holdsPlaceholder(v interface{}) bool {
	switch x := v.(type) {
	case string:
		return strings.HasPrefix(x, placeholderPrefix)
	case map[string]interface{}:
		for _, item := range x {
			if holdsPlaceholder(item) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Which variables an expression reads (expression_template.go getIdentifiers,
// hasVarInEnv)
// ---------------------------------------------------------------------------

// missingVariables lists, in the order the parse tree is left (children first), each
// identifier and each member chain (a.b, a['b'].c) the expression reads that env lacks.
func missingVariables(source string, env map[string]interface{}) ([]string, error) {
	tree, err := parser.Parse(source)
	if err != nil {
		return nil, err
	}
	c := &variableCollector{seen: map[string]bool{}}
	ast.Walk(&tree.Node, c)
	var missing []string
	for _, name := range c.names {
		if !inEnv(env, name) {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

type variableCollector struct {
	seen  map[string]bool
	names []string
}

func (c *variableCollector) Enter(*ast.Node) {}

func (c *variableCollector) Exit(node *ast.Node) {
	if name, ok := variablePath(*node); ok && !c.seen[name] {
		c.seen[name] = true
		c.names = append(c.names, name)
	}
}

// variablePath names an identifier or a member chain whose every step is a name or a
// string literal. (expr 1.8.9 has PropertyNode and IndexNode where v1.17 has MemberNode.)
func variablePath(node ast.Node) (string, bool) {
	switch n := node.(type) {
	case *ast.IdentifierNode:
		return n.Value, true
	case *ast.PropertyNode:
		if base, ok := variablePath(n.Node); ok {
			return base + "." + n.Property, true
		}
	case *ast.IndexNode:
		if key, isString := n.Index.(*ast.StringNode); isString {
			if base, ok := variablePath(n.Node); ok {
				return base + "." + key.Value, true
			}
		}
	}
	return "", false
}

// inEnv follows a dotted name through the nested env; a present nil leaf counts.
func inEnv(env map[string]interface{}, name string) bool {
	var cur interface{} = env
	for _, part := range strings.Split(name, ".") {
		m, isMap := cur.(map[string]interface{})
		if !isMap {
			return false
		}
		next, ok := m[part]
		if !ok {
			return false
		}
		cur = next
	}
	return true
}

func readsLateBinding(source string, env map[string]interface{}) bool {
	missing, err := missingVariables(source, env)
	if err != nil {
		return false
	}
	for _, name := range missing {
		if lateBinding[name] {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Where expr 1.8.9 and Argo's expr-lang v1.17 differ
// ---------------------------------------------------------------------------

// v117Builtins are expr-lang v1.17.8's builtins (builtin/builtin.go) that expr 1.8.9
// lacks, leaving out int/float/string, which exprEnv provides.
var v117Builtins = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`
		find findIndex findLast findLastIndex sum groupBy sortBy reduce
		type abs ceil floor round
		trim trimPrefix trimSuffix upper lower split splitAfter replace repeat join
		indexOf lastIndexOf hasPrefix hasSuffix
		max min mean median
		toJSON fromJSON toBase64 fromBase64
		now duration date timezone
		first last get take keys values toPairs fromPairs reverse uniq concat flatten sort
		bitand bitor bitxor bitnand bitnot bitshl bitshr bitushr`) {
		v117Builtins[name] = true
	}
}

var (
	callRe     = regexp.MustCompile(`(^|[^.\w])([A-Za-z_]\w*)\s*\(`)
	letIfRe    = regexp.MustCompile(`(^|\W)(let|if)\s`)
	literalsRe = regexp.MustCompile(`"(\\.|[^"\\])*"|'(\\.|[^'\\])*'`)
)

// engineGap says which v1.17-only syntax an expression uses, if any, so that a compile
// error it causes is reported as this oracle's limit, not as Argo's verdict.
func engineGap(source string) string {
	if strings.Contains(source, "??") || strings.Contains(source, "?.") {
		return "uses ?? or ?. (expr-lang >= 1.15 only)"
	}
	for _, m := range callRe.FindAllStringSubmatch(source, -1) {
		if v117Builtins[m[2]] {
			return "uses builtin " + m[2] + "() (expr-lang v1.17 only)"
		}
	}
	if letIfRe.MatchString(source) {
		return "uses let/if syntax (expr-lang v1.17 only)"
	}
	return ""
}

// engineWarning flags operators that mean something else in v1.17: `/` of two ints is
// integer division in 1.8.9 but float division in v1.17, and `^` is power in v1.17 but a
// syntax error in 1.8.9. String literals are blanked out first.
func engineWarning(source string) string {
	code := literalsRe.ReplaceAllString(source, "''")
	switch {
	case strings.Contains(code, "/"):
		return "expression uses '/': int/int is integer division in expr 1.8.9 but float division in Argo's expr-lang v1.17 (" + source + ")"
	case strings.Contains(code, "^"):
		return "expression uses '^' (power in expr-lang v1.17, a syntax error in expr 1.8.9) (" + source + ")"
	}
	return ""
}
