package main

// A `when` string, once every tag in it is substituted, is judged by govaluate exactly
// as workflow/controller/steps.go shouldExecute judges it.

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/Knetic/govaluate"
)

// whenVerdict is shouldExecute's (bool, error) plus what the protocol reports about it.
type whenVerdict struct {
	value  bool
	err    error
	kind   string                      // "parse", "eval" or "not_bool" when err != nil
	tokens []govaluate.ExpressionToken // after the VARIABLE -> STRING rewrite; nil if none
}

// shouldExecute mirrors steps.go shouldExecute:
//   - an empty `when` runs the task;
//   - govaluate parses the text, and every VARIABLE token is turned into a STRING token
//     holding the same text. Argo does this so that `foo == foo` needs no quotes, and it
//     is why unquoted words are strings here, `True` is not a bool, and a dotted word is
//     an ACCESSOR token that fails;
//   - the rewritten tokens are parsed again and evaluated with no parameters;
//   - the result has to be a bool.
//
// The error texts (typo 'expresion' included) are Argo's.
func shouldExecute(when string) whenVerdict {
	if when == "" {
		return whenVerdict{value: true}
	}
	parsed, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		msg := fmt.Sprintf("Invalid 'when' expression '%s': %v", when, err)
		if strings.Contains(err.Error(), "Invalid token") {
			msg += " (hint: try wrapping the affected expression in quotes (\"))"
		}
		return whenVerdict{err: fmt.Errorf("%s", msg), kind: "parse"}
	}
	tokens := parsed.Tokens()
	for i := range tokens {
		if tokens[i].Kind == govaluate.VARIABLE {
			tokens[i].Kind = govaluate.STRING
		}
	}
	verdict := whenVerdict{tokens: tokens}
	if tokens == nil {
		verdict.tokens = []govaluate.ExpressionToken{}
	}
	reparsed, err := govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		verdict.err, verdict.kind = fmt.Errorf("Failed to parse 'when' expression '%s': %v", when, err), "parse"
		return verdict
	}
	result, err := reparsed.Evaluate(nil)
	if err != nil {
		verdict.err, verdict.kind = fmt.Errorf("Failed to evaluate 'when' expresion '%s': %v", when, err), "eval"
		return verdict
	}
	b, isBool := result.(bool)
	if !isBool {
		verdict.err, verdict.kind = fmt.Errorf("Expected boolean evaluation for '%s'. Got %v", when, result), "not_bool"
		return verdict
	}
	verdict.value = b
	return verdict
}

// whenAnswer completes an answer with a verdict: execute/skip, or error.
func whenAnswer(a answer, v whenVerdict, debug bool) answer {
	if debug {
		a["tokens"] = tokenView(v.tokens)
	}
	if v.err != nil {
		a["ok"] = false
		a["stage"] = "govaluate"
		a["error_kind"] = v.kind
		a["error"] = v.err.Error()
		a["decision"] = "error"
		return a
	}
	a["ok"] = true
	a["value"] = v.value
	a["decision"] = map[bool]string{true: "execute", false: "skip"}[v.value]
	return a
}

// tokenView shows govaluate's tokens as JSON (kind name and value), to explain a verdict.
// nil (no parse got that far) stays null.
func tokenView(tokens []govaluate.ExpressionToken) []map[string]interface{} {
	if tokens == nil {
		return nil
	}
	view := make([]map[string]interface{}, len(tokens))
	for i, tok := range tokens {
		view[i] = map[string]interface{}{"kind": tok.Kind.String(), "value": tokenValue(tok.Value)}
	}
	return view
}

func tokenValue(v interface{}) interface{} {
	switch x := v.(type) {
	case string, bool, float64:
		return x
	case rune: // ( and )
		return string(x)
	case []string: // an ACCESSOR's dotted parts
		return strings.Join(x, ".")
	case time.Time: // a quoted date
		return x.Format(time.RFC3339Nano)
	case *regexp.Regexp:
		return x.String()
	}
	return fmt.Sprintf("%v", v)
}
