package main

// One substitution pass over one string field, the way util/template does it for an
// object the controller has JSON-marshaled: fasttemplate runs over the JSON *text*, so a
// value is inserted JSON-escaped, and the result must still be valid JSON.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/valyala/fasttemplate"
)

// expressionTags is util/template/kind.go's registration of the `=` kind: it happens once,
// at start-up, unless EXPRESSION_TEMPLATES=false.
var expressionTags = os.Getenv("EXPRESSION_TEMPLATES") != "false"

// pass is one call of template.Replace or template.ReplaceStrictAny.
type pass struct {
	name string
	// vars is the replace map: a string, or nil for an absent optional (the output of a
	// skipped/omitted producer that has no default).
	vars map[string]interface{}
	// strict is the regex a missing key must not match (nil: any key may stay unresolved).
	strict *regexp.Regexp
	// artifactsMayWait lets a strict `*.outputs.artifacts.*` tag stay unresolved: Argo
	// resolves artifacts later, and they may be optional.
	artifactsMayWait bool
	// notes collects engine caveats met while evaluating {{=...}} tags.
	notes *[]string
}

// everything is simple_template.go matchAllRegex: every key is strict.
var everything = regexp.MustCompile(".*")

// replacePass is template.Replace(..., allowUnresolved): when unresolved tags are not
// allowed, every key is strict and even artifacts must resolve.
func replacePass(name string, vars map[string]interface{}, allowUnresolved bool, notes *[]string) pass {
	p := pass{name: name, vars: vars, artifactsMayWait: allowUnresolved, notes: notes}
	if !allowUnresolved {
		p.strict = everything
	}
	return p
}

// replaceStrictAnyPass is template.ReplaceStrictAny(..., prefixes): keys under one of the
// prefixes must resolve (template.go getStrictRegex: a whole first dot-segment).
func replaceStrictAnyPass(name string, vars map[string]interface{}, prefixes []string, notes *[]string) pass {
	p := pass{name: name, vars: vars, artifactsMayWait: true, notes: notes}
	if len(prefixes) > 0 {
		quoted := make([]string, len(prefixes))
		for i, prefix := range prefixes {
			quoted[i] = regexp.QuoteMeta(prefix)
		}
		p.strict = regexp.MustCompile(`^((` + strings.Join(quoted, "|") + `))(\.|$)`)
	}
	return p
}

// isMissingVariable is replace.go IsMissingVariableErr. Argo decides whether to wait
// (requeue) or to fail the node from an error's message alone, which is why the error
// messages in this file and in expression.go are Argo's words.
func isMissingVariable(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "failed to resolve {{") ||
		strings.Contains(msg, " is missing") ||
		strings.Contains(msg, "variable not in env")
}

// run substitutes one string: json.Marshal it (which also HTML-escapes <, > and &), run
// fasttemplate over that JSON text with {{ and }}, check the result is valid JSON, and
// unmarshal it back.
func (p pass) run(field string) (string, error) {
	marshaled, err := json.Marshal(field)
	if err != nil {
		return "", err
	}
	tmpl, err := fasttemplate.NewTemplate(string(marshaled), "{{", "}}")
	if err != nil { // a {{ with no }}
		return "", err
	}
	var out bytes.Buffer
	_, err = tmpl.ExecuteFunc(&out, func(w io.Writer, tag string) (int, error) {
		// kind.go parseTag: `=` marks an expression; jsonutil.Fix undoes the HTML escapes.
		if expression := strings.TrimPrefix(tag, "="); expressionTags && expression != tag {
			return p.expressionTag(w, unescapeHTML(expression))
		}
		return p.simpleTag(w, tag)
	})
	if err != nil {
		return "", err
	}
	if !json.Valid(out.Bytes()) {
		return "", errors.New("cannot finish template replacement because the result was invalid JSON")
	}
	var result string
	if err := json.Unmarshal(out.Bytes(), &result); err != nil {
		return "", err
	}
	return result, nil
}

// unescapeHTML is util/json Fix: the three escapes json.Marshal adds for HTML safety.
func unescapeHTML(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

// jsonStringBody is how simple_template.go inserts a value into JSON text: strconv.Quote
// without its quotes. Quote's Go escapes (\x01, \a, ...) are not JSON, which is why a
// control character in a value makes the pass fail.
func jsonStringBody(s string) string {
	quoted := strconv.Quote(s)
	return quoted[1 : len(quoted)-1]
}

// simpleTag is simple_template.go simpleReplaceStrict.
func (p pass) simpleTag(w io.Writer, tag string) (int, error) {
	value, found := p.vars[strings.TrimSpace(tag)]
	if !found {
		// fasttemplate reads `{{a.{{b}}}}` as the tag `a.{{b` followed by `}}`: resolve
		// the inner tag and leave `{{a.<value>` for a later pass.
		if at := strings.LastIndex(tag, "{{"); at > 0 {
			outer, inner := tag[:at], tag[at+2:]
			if nested, ok := p.vars[inner]; ok {
				if nested == nil {
					return 0, fmt.Errorf("unable to substitute nested tag {{%s}}: %q is an absent optional", tag, inner)
				}
				if s, isString := nested.(string); isString {
					return io.WriteString(w, "{{"+outer+jsonStringBody(s))
				}
			}
		}
		key := strings.TrimSpace(tag)
		if p.strict != nil && p.strict.MatchString(key) &&
			(!p.artifactsMayWait || !strings.Contains(key, ".outputs.artifacts.")) {
			return 0, fmt.Errorf("failed to resolve {{%s}}", tag)
		}
		// Unresolved is allowed: the tag stays as it was.
		return fmt.Fprintf(w, "{{%s}}", tag)
	}
	if value == nil {
		// Terminal on purpose: the message must not look like a missing variable.
		return 0, fmt.Errorf("unable to substitute {{%s}}: output is an absent optional (skipped/omitted node with no default)", tag)
	}
	s, isString := value.(string)
	if !isString {
		return 0, fmt.Errorf("failed to resolve {{%s}} to string", tag)
	}
	return io.WriteString(w, jsonStringBody(s))
}
