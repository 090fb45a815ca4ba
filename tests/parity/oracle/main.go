// Command argo-expr-oracle is flowspec's referee for the parity tests: it decides a DAG
// task's `when` and `depends` the way the Argo Workflows controller does, by calling the
// same expression libraries the controller links (Knetic/govaluate, valyala/fasttemplate,
// an expr engine, Masterminds/sprig) in the same order the controller calls them.
//
// It reads one JSON request per line on stdin and writes one JSON answer per line on
// stdout, in order; README.md describes the requests and answers. Each file holds one
// idea, and each function names the Argo function it stands in for (paths are in
// github.com/argoproj/argo-workflows at v4.1.x):
//
//	when.go        workflow/controller/steps.go shouldExecute
//	template.go    util/template: one Replace / ReplaceStrictAny pass over a JSON string
//	expression.go  util/template/expression_template.go and util/expr/env: {{=...}} tags
//	dagwhen.go     the order of the passes a DAG task's `when` goes through
//	depends.go     workflow/common/ancestry.go, dag.go evaluateDependsLogic, validateDAG
//
// The Go code is flowspec's own, written from reading Argo's; no Argo code is copied.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func init() {
	// govaluate reads a quoted string that looks like a date in time.Local. The
	// controller image sets no TZ, so Argo reads such dates as UTC; so do we.
	time.Local = time.UTC
}

// request is every field any kind of request may carry; unknown fields are refused so a
// typo in a test cannot silently ask a different question.
type request struct {
	ID           json.RawMessage     `json:"id,omitempty"`
	Kind         string              `json:"kind"`
	Expr         string              `json:"expr"`
	Vars         map[string]*string  `json:"vars"` // nil value: an absent optional output
	Tasks        map[string]taskSpec `json:"tasks"`
	Dependencies []string            `json:"dependencies"`
	Argo         string              `json:"argo"` // "v4" (default) or "v3"
	Debug        bool                `json:"debug"`
}

// answer is a response line. A map rather than a struct: which keys appear (and whether a
// value is null or absent) is part of the protocol, and encoding/json sorts map keys, so
// every answer has one stable text.
type answer map[string]interface{}

func badRequest(format string, args ...interface{}) answer {
	return answer{"ok": false, "decision": "bad_request", "error": fmt.Sprintf(format, args...)}
}

// respond answers one request line. A panic anywhere (a library given something it
// does not expect) becomes an answer too, so one odd request never ends the session.
func respond(line []byte) (out answer) {
	var req request
	defer func() {
		if r := recover(); r != nil {
			out = answer{"ok": false, "decision": "oracle_panic", "error": fmt.Sprintf("oracle panic: %v", r)}
		}
		if len(req.ID) > 0 {
			out["id"] = req.ID
		}
		if req.Kind != "" {
			out["kind"] = req.Kind
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("bad request: %v", err)
	}
	switch req.Kind {
	case "when":
		return whenAnswer(answer{}, shouldExecute(req.Expr), req.Debug)
	case "when_template":
		return answerWhenTemplate(req)
	case "depends":
		return answerDepends(req)
	case "expression":
		return answerExpression(req)
	}
	return badRequest("unknown kind %q", req.Kind)
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	// Answers quote expressions and templates; keep <, > and & readable.
	enc.SetEscapeHTML(false)
	for {
		line, readErr := in.ReadBytes('\n')
		if body := bytes.TrimSpace(line); len(body) > 0 {
			if err := enc.Encode(respond(body)); err != nil {
				fmt.Fprintf(os.Stderr, "argo-expr-oracle: %v\n", err)
				os.Exit(1)
			}
			// The client waits for each answer before it asks again.
			if err := out.Flush(); err != nil {
				os.Exit(1)
			}
		}
		if readErr != nil {
			return
		}
	}
}
