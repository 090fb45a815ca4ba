package main

// The passes a DAG task's `when` goes through before shouldExecute judges it, in the
// controller's order. Text one pass inserts is scanned again by every later pass.
//
//	global  common.SubstituteParams (workflow/common/util.go) when the DAG template runs:
//	        globals only, unresolved tags stay
//	inputs  the same function's second Replace: globals and inputs.*, unresolved tags stay
//	tasks   resolveDependencyReferences (workflow/controller/dag.go): everything in the
//	        task's scope, strict for tasks.* and steps.* (a missing one: Argo waits)
//	item    only for withItems/withParam: processItem (workflow/controller/operator.go)
//	        with item/item.* added, strict for every key unless the `when` is already
//	        false, then judged again. executeDAGTask puts the node in Error when this
//	        pass fails (expandTask's error); it never waits here.

import (
	"encoding/json"
	"strings"
)

// varScope sorts a variable into the pass that first sees it.
func varScope(key string) string {
	switch {
	case key == "item" || strings.HasPrefix(key, "item."):
		return "item"
	case strings.HasPrefix(key, "tasks.") || strings.HasPrefix(key, "steps."):
		return "tasks"
	case strings.HasPrefix(key, "inputs."):
		return "inputs"
	}
	return "global"
}

// scopeVars is the replace map of the vars in the given scopes (nil stays nil).
func scopeVars(vars map[string]*string, scopes ...string) map[string]interface{} {
	out := map[string]interface{}{}
	for key, value := range vars {
		for _, s := range scopes {
			if varScope(key) != s {
				continue
			}
			if value == nil {
				out[key] = nil
			} else {
				out[key] = *value
			}
		}
	}
	return out
}

func answerWhenTemplate(req request) answer {
	vars := req.Vars
	strictTasks := true
	switch req.Argo {
	case "", "v4":
	case "v3":
		// v3.x resolved a task with a lenient Replace over a string-only scope: an
		// output a skipped task never produced was simply absent, and its tag stayed.
		strictTasks = false
		vars = map[string]*string{}
		for k, v := range req.Vars {
			if v != nil {
				vars[k] = v
			}
		}
	default:
		return badRequest("argo must be \"v4\" (default) or \"v3\"")
	}

	a := answer{}
	var notes []string
	defer func() { addNotes(a, notes) }()
	var passes []map[string]interface{}
	failed := func(p pass, err error) answer {
		a["ok"] = false
		a["stage"] = p.name
		a["error"] = err.Error()
		// Only resolveDependencyReferences asks IsMissingVariableErr and requeues; an
		// error anywhere else puts the node in Error.
		if p.name == "tasks" && isMissingVariable(err) {
			a["requeue"] = true
			a["decision"] = "requeue"
		} else {
			a["decision"] = "error"
		}
		a["passes"] = passes
		return a
	}

	steps := []pass{
		replacePass("global", scopeVars(vars, "global"), true, &notes),
		replacePass("inputs", scopeVars(vars, "global", "inputs"), true, &notes),
	}
	taskVars := scopeVars(vars, "global", "inputs", "tasks")
	if strictTasks {
		steps = append(steps, replaceStrictAnyPass("tasks", taskVars, []string{"tasks", "steps"}, &notes))
	} else {
		steps = append(steps, replacePass("tasks", taskVars, true, &notes))
	}
	when := req.Expr
	for _, p := range steps {
		out, err := p.run(when)
		if err != nil {
			return failed(p, err)
		}
		passes = append(passes, map[string]interface{}{"pass": p.name, "out": out})
		when = out
	}
	verdict := shouldExecute(when)

	if len(scopeVars(vars, "item")) > 0 {
		all := scopeVars(vars, "global", "inputs", "tasks", "item")
		itemPass := replacePass("item", all, false, &notes)
		if verdict.err == nil && !verdict.value {
			// processItem: a task that will not run must not fail on an absent optional,
			// so nil values are dropped and unresolved tags may stay.
			for k, v := range all {
				if v == nil {
					delete(all, k)
				}
			}
			itemPass = replacePass("item", all, true, &notes)
		}
		out, err := itemPass.run(when)
		if err != nil {
			return failed(itemPass, err)
		}
		passes = append(passes, map[string]interface{}{"pass": "item", "out": out})
		when = out
		verdict = shouldExecute(when)
	}
	a["substituted"] = when
	a["passes"] = passes
	return whenAnswer(a, verdict, req.Debug)
}

// addNotes reports each distinct engine caveat once.
func addNotes(a answer, notes []string) {
	var distinct []string
	seen := map[string]bool{}
	for _, n := range notes {
		if !seen[n] {
			seen[n] = true
			distinct = append(distinct, n)
		}
	}
	if len(distinct) > 0 {
		a["engine_warnings"] = distinct
	}
}

// answerExpression evaluates one {{=...}} body the way the `tasks` pass would, with every
// var in scope, and reports the value and the text Argo would insert.
func answerExpression(req request) answer {
	var notes []string
	p := replaceStrictAnyPass("tasks", scopeVars(req.Vars, "global", "inputs", "tasks", "item"),
		[]string{"tasks", "steps"}, &notes)
	// The body as it would stand in the marshaled template, HTML escapes undone.
	marshaled, _ := json.Marshal(req.Expr) // a string always marshals
	res, err := p.evalTag(unescapeHTML(string(marshaled[1 : len(marshaled)-1])))
	if err != nil {
		a := answer{"ok": false, "error": err.Error()}
		if isMissingVariable(err) {
			a["requeue"] = true
		}
		return a
	}
	if res.unresolved {
		return answer{"ok": false, "error": "expression left unresolved (references a variable not supplied)", "rendered": res.text}
	}
	inserted, _ := jsonUnquote(res.text)
	a := answer{"ok": true, "result": res.value, "rendered": inserted}
	if len(notes) > 0 {
		a["engine_warnings"] = notes
	}
	return a
}
