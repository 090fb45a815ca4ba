package main

// `depends` and `dependencies`: what validation rejects (workflow/validate/validate.go
// validateDAG, workflow/common/ancestry.go ValidateTaskResults), how the logic is
// expanded (ancestry.go GetTaskDependencies), and when and how the controller evaluates
// it (workflow/controller/dag.go evaluateDependsLogic, util/expr/argoexpr EvalBool).

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/antonmedv/expr"
)

// taskSpec is one task of the DAG as the request describes it.
type taskSpec struct {
	Phase            string      `json:"phase"`    // "" = no node yet
	Daemoned         bool        `json:"daemoned"` // NodeStatus.Daemoned
	Children         *[]string   `json:"children"` // a fan-out TaskGroup's child phases
	Fanout           bool        `json:"fanout"`   // declares withItems/withParam/withSequence
	ContinueOn       *continueOn `json:"continueOn"`
	TaskResultSynced *bool       `json:"taskResultSynced"`
}

type continueOn struct {
	Failed bool `json:"failed"`
	Error  bool `json:"error"`
}

var (
	// ancestry.go taskNameRegex: `name.Result` or a bare name. Any word is a task name,
	// so `true`, `or` or a lowercase `a.succeeded` are undefined dependencies.
	dependsTokenRe = regexp.MustCompile(`([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)`)
	// ancestry.go taskResultRegex.
	taskResultRe = regexp.MustCompile(`([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)`)
	taskResults  = map[string]bool{"Succeeded": true, "Failed": true, "Errored": true, "Skipped": true,
		"Omitted": true, "Daemoned": true, "AnySucceeded": true, "AllFailed": true}
)

// TaskResults is dag.go's TaskResults, the type each dependency has in the expression.
type TaskResults struct {
	Succeeded    bool
	Failed       bool
	Errored      bool
	Skipped      bool
	Omitted      bool
	Daemoned     bool
	AnySucceeded bool
	AllFailed    bool
}

// expandDependency is ancestry.go expandDependency: what a bare `A` means. A task with
// continueOn also lets Errored / Failed through.
func expandDependency(name string, task *taskSpec) string {
	results := []string{name + ".Succeeded", name + ".Skipped", name + ".Daemoned"}
	if task != nil && task.ContinueOn != nil {
		if task.ContinueOn.Error {
			results = append(results, name+".Errored")
		}
		if task.ContinueOn.Failed {
			results = append(results, name+".Failed")
		}
	}
	return "(" + strings.Join(results, " || ") + ")"
}

// taskDependencies is ancestry.go GetTaskDependencies: every name the logic mentions
// (true when it is read through .AnySucceeded or .AllFailed: DependencyTypeItems), and
// the logic with each bare name expanded (right to left, so offsets stay valid).
func taskDependencies(logic string, tasks map[string]taskSpec) (map[string]bool, string) {
	deps := map[string]bool{}
	type bare struct {
		name       string
		start, end int
	}
	var bares []bare
	for _, m := range dependsTokenRe.FindAllStringSubmatchIndex(logic, -1) {
		switch {
		case m[2] >= 0:
			name, result := splitResult(logic[m[2]:m[3]])
			if result == "AnySucceeded" || result == "AllFailed" {
				deps[name] = true // takes precedence over a plain reference
			} else if _, seen := deps[name]; !seen {
				deps[name] = false
			}
		case m[4] >= 0:
			name := logic[m[4]:m[5]]
			deps[name] = false
			bares = append(bares, bare{name, m[4], m[5]})
		}
	}
	for i := len(bares) - 1; i >= 0; i-- {
		b := bares[i]
		var task *taskSpec
		if t, ok := tasks[b.name]; ok {
			task = &t
		}
		logic = logic[:b.start] + expandDependency(b.name, task) + logic[b.end:]
	}
	return deps, logic
}

func splitResult(token string) (name, result string) {
	dot := strings.IndexByte(token, '.')
	return token[:dot], token[dot+1:]
}

func sortedTaskNames(tasks map[string]taskSpec) []string {
	names := make([]string, 0, len(tasks))
	for n := range tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func invalid(format string, args ...interface{}) answer {
	return answer{"ok": false, "decision": "invalid", "stage": "validate", "error": fmt.Sprintf(format, args...)}
}

// dependsLogic validates the request as validateDAG would and returns the task's logic
// (ancestry.go getTaskDependsLogic), or the answer that rejects it.
func dependsLogic(req request) (string, answer) {
	if req.Expr != "" && len(req.Dependencies) > 0 {
		return "", invalid("cannot use both 'depends' and 'dependencies' in the same DAG template")
	}
	if req.Expr == "" {
		// dependencies: [A, B] means expand(A) && expand(B).
		parts := make([]string, 0, len(req.Dependencies))
		for _, name := range req.Dependencies {
			task, ok := req.Tasks[name]
			if !ok {
				return "", invalid("dependency '%s' not defined", name)
			}
			parts = append(parts, expandDependency(name, &task))
		}
		return strings.Join(parts, " && "), nil
	}
	for _, name := range sortedTaskNames(req.Tasks) {
		if req.Tasks[name].ContinueOn != nil {
			return "", invalid("cannot use 'continueOn' when using 'depends' (task %s). Instead use 'dep-task.Failed'/'dep-task.Errored'", name)
		}
	}
	for _, m := range taskResultRe.FindAllStringSubmatch(req.Expr, -1) {
		if name, result := splitResult(m[1]); !taskResults[result] {
			return "", invalid("task result '%s' for task '%s' is invalid", result, name)
		}
	}
	return req.Expr, nil
}

func answerDepends(req request) answer {
	logic, rejected := dependsLogic(req)
	if rejected != nil {
		return rejected
	}
	if logic == "" {
		return answer{"ok": true, "decision": "execute", "proceed": true, "value": true, "logic": ""}
	}
	for _, name := range sortedTaskNames(req.Tasks) {
		if name != "" && '0' <= name[0] && name[0] <= '9' {
			return invalid("task name %s cannot begin with a digit when using either 'depends' or 'dependencies'", name)
		}
	}
	deps, logic := taskDependencies(logic, req.Tasks)
	names := make([]string, 0, len(deps))
	for name := range deps {
		names = append(names, name)
	}
	sort.Strings(names) // Argo's order is a map's; any fixed order will do
	for _, name := range names {
		task, ok := req.Tasks[name]
		if !ok {
			return invalid("dependency '%s' not defined", name)
		}
		if deps[name] && !task.Fanout && task.Children == nil {
			return invalid("dependency '%s' uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items", name)
		}
	}

	a := answer{"logic": logic, "dependencies": names}
	scope := map[string]TaskResults{}
	for _, name := range names {
		node, err := nodeOf(req.Tasks[name])
		if err != nil {
			return badRequest("%v", err)
		}
		if !node.fulfilled() {
			// evaluateDependsLogic waits for every dependency, even when the answer
			// is already known.
			a["ok"], a["proceed"], a["value"], a["decision"], a["waiting_on"] = true, false, nil, "wait", name
			return a
		}
		key := strings.ReplaceAll(name, "-", "_")
		if _, done := scope[key]; done {
			continue
		}
		scope[key] = node.results()
	}
	// The logic compiles with every '-' turned into '_' (task names become identifiers).
	evalLogic := strings.ReplaceAll(logic, "-", "_")
	a["eval_logic"] = evalLogic
	a["proceed"] = true
	execute, err := evalBool(evalLogic, scope)
	if err != nil {
		a["ok"], a["decision"] = false, "error"
		a["error"] = fmt.Sprintf("unable to evaluate expression '%s': %v", evalLogic, err)
		return a
	}
	a["ok"], a["value"] = true, execute
	a["decision"] = map[bool]string{true: "execute", false: "omit"}[execute]
	return a
}

// node is a dependency's NodeStatus, as far as evaluateDependsLogic looks at it.
type node struct {
	phase    string // "" = no node yet
	daemoned bool
	synced   *bool
	group    bool     // a TaskGroup (fan-out with at least one child)
	children []string // a group's child phases
}

func normalPhase(p string) (string, error) {
	switch p {
	case "", "Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running", "Pending":
		return p, nil
	case "Errored":
		return "Error", nil
	}
	return "", fmt.Errorf("unknown phase %q", p)
}

func nodeOf(t taskSpec) (node, error) {
	phase, err := normalPhase(t.Phase)
	if err != nil {
		return node{}, err
	}
	n := node{phase: phase, daemoned: t.Daemoned, synced: t.TaskResultSynced}
	if t.Children != nil {
		for _, c := range *t.Children {
			cp, err := normalPhase(c)
			if err != nil {
				return node{}, err
			}
			n.children = append(n.children, cp)
		}
		if n.phase == "" {
			n.phase = groupPhase(n.children)
		}
		// An empty expansion makes a Skipped node, not a TaskGroup.
		n.group = len(n.children) > 0
	}
	return n, nil
}

// phaseFulfilled is NodeStatus.Fulfilled: done (and its task result synced), skipped or
// omitted, or a daemon that has started. A missing node is not fulfilled.
func phaseFulfilled(phase string, daemoned bool, synced *bool) bool {
	isSynced := synced == nil || *synced
	completed := phase == "Succeeded" || phase == "Failed" || phase == "Error"
	done := (completed && isSynced) || phase == "Skipped" || phase == "Omitted"
	return (done && isSynced) || (daemoned && phase != "Pending" && phase != "")
}

func (n node) fulfilled() bool { return phaseFulfilled(n.phase, n.daemoned, n.synced) }

// results is the TaskResults evaluateDependsLogic builds for a fulfilled node.
func (n node) results() TaskResults {
	anySucceeded, allFailed := false, false
	if n.group {
		// AllFailed needs every child Failed: an errored child makes it false.
		allFailed = true
		for _, c := range n.children {
			anySucceeded = anySucceeded || c == "Succeeded"
			allFailed = allFailed && c == "Failed"
		}
	}
	return TaskResults{
		Succeeded:    n.phase == "Succeeded",
		Failed:       n.phase == "Failed",
		Errored:      n.phase == "Error",
		Skipped:      n.phase == "Skipped",
		Omitted:      n.phase == "Omitted",
		Daemoned:     n.daemoned && n.phase != "Pending",
		AnySucceeded: anySucceeded,
		AllFailed:    allFailed,
	}
}

// groupPhase is how executeDAGTask settles a TaskGroup: Running until every child is
// fulfilled, then Succeeded unless a child Failed or Errored (the last such child's
// phase). So a group whose children were all skipped is Succeeded.
func groupPhase(children []string) string {
	if len(children) == 0 {
		return "Skipped"
	}
	phase := "Succeeded"
	for _, c := range children {
		if !phaseFulfilled(c, false, nil) {
			return "Running"
		}
		if c == "Failed" || c == "Error" {
			phase = c
		}
	}
	return phase
}

// evalBool is util/expr/argoexpr EvalBool, texts included.
func evalBool(input string, env map[string]TaskResults) (value bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	program, err := expr.Compile(input, expr.Env(env))
	if err != nil {
		return false, err
	}
	result, err := expr.Run(program, env)
	if err != nil {
		return false, fmt.Errorf("unable to evaluate expression '%s': %w", input, err)
	}
	b, isBool := result.(bool)
	if !isBool {
		return false, fmt.Errorf("unable to cast expression result '%s' to bool", result)
	}
	return b, nil
}
