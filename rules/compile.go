package rules

import (
	"fmt"
	"slices"
	"text/template"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// program is a compiled condition with the names it reads.
type program struct {
	prog *vm.Program
	// idents are the variables the expression reads; when one is not in
	// the environment the result is unknown.
	idents []string
	// pure: the expression calls no builtin, so its result depends on
	// nothing but the values of idents.
	pure bool
}

type identVisitor struct {
	idents   []string
	callees  []string
	locals   []string
	builtins bool
}

// Visit records identifiers, called functions and let-bound names.
func (v *identVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if !slices.Contains(v.idents, x.Value) {
			v.idents = append(v.idents, x.Value)
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			v.callees = append(v.callees, id.Value)
		}
	case *ast.VariableDeclaratorNode:
		v.locals = append(v.locals, x.Name)
	case *ast.BuiltinNode:
		v.builtins = true
	}
}

// compileExpr compiles a condition: a boolean expr expression without
// access to the clock.
func compileExpr(src string) (*program, error) {
	// A map environment lets expr read names straight from the map (no
	// reflection per evaluation); names unknown at compile time are
	// allowed, since a sample set names its values only when it arrives.
	p, err := expr.Compile(src, expr.Env(map[string]any{}), expr.AllowUndefinedVariables(),
		expr.AsBool(), expr.DisableBuiltin("now"))
	if err != nil {
		return nil, err
	}
	var v identVisitor
	node := p.Node()
	ast.Walk(&node, &v)
	if len(v.callees) > 0 {
		return nil, fmt.Errorf("unknown function %s()", v.callees[0])
	}
	idents := slices.DeleteFunc(v.idents, func(s string) bool { return slices.Contains(v.locals, s) })
	return &program{prog: p, idents: idents, pure: !v.builtins}, nil
}

type kind int

const (
	kindCondition kind = iota
	kindBand
	kindRate
	kindStuck
	kindNoData
	kindDisagree
	kindSensorFault
)

// crule is a compiled rule.
type crule struct {
	idx   int
	r     Rule
	kind  kind
	cond  *program
	clear *program
	// primary is the value shown as .Value.
	primary string
	// names are the sample values carried in the alert.
	names []string
	tmpl  map[string]*template.Template
	// thr is the rule's primary threshold (before room overrides);
	// hasThr says whether it has one.
	thr    float64
	hasThr bool
	warned bool
}

// defaultMessage is the text of a rule that gives none: its main value by
// display name (the rule's name when it has none), and for the recovery
// the value now and how long the alarm lasted.
var defaultMessage = map[string]string{
	LangZh:               `{{.Room}} {{.Device}} {{or .Name .Rule}}告警{{with .Current}}：{{.}}{{end}}`,
	LangEn:               `{{.Room}} {{.Device}} {{or .Name .Rule}} alarm{{with .Current}}: {{.}}{{end}}`,
	"resolved_" + LangZh: `{{.Room}} {{.Device}} {{or .Name .Rule}}已恢复正常（{{with .Current}}当前 {{.}}，{{end}}持续 {{.Lasted}}）`,
	"resolved_" + LangEn: `{{.Room}} {{.Device}} {{or .Name .Rule}} back to normal ({{with .Current}}now {{.}}, {{end}}lasted {{.Lasted}})`,
}

// compileRules validates and compiles the rules that are not disabled:
// in order, and by name.
func compileRules(rules []Rule) ([]*crule, map[string]*crule, error) {
	var rs []*crule
	byName := map[string]*crule{}
	errs := &yamlconf.Errors{}
	for i, r := range rules {
		if r.Disabled {
			continue
		}
		if _, dup := byName[r.Name]; dup {
			return nil, nil, fmt.Errorf("rule %q: duplicate name", r.Name)
		}
		// Rules built in Go rather than parsed get the same checks.
		cals := map[string]*Calendar{}
		if w := r.When; w != nil && w.Calendar != nil {
			cals[w.Inside+w.Outside] = w.Calendar
		}
		validateRule(errs, fmt.Sprintf("rules[%d]", i), &r, cals)
		if err := errs.Err(); err != nil {
			return nil, nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		c, err := compileRule(i, r)
		if err != nil {
			return nil, nil, err
		}
		rs = append(rs, c)
		byName[r.Name] = c
	}
	return rs, byName, nil
}

// compileRule compiles rule r, the i-th of its set.
func compileRule(i int, r Rule) (*crule, error) {
	c := &crule{idx: i, r: r, tmpl: map[string]*template.Template{}}
	var err error
	add := func(n string) {
		if n != "" && !slices.Contains(c.names, n) {
			c.names = append(c.names, n)
		}
	}
	switch {
	case r.Condition != "":
		c.kind = kindCondition
		if c.cond, err = compileExpr(r.Condition); err != nil {
			return nil, fmt.Errorf("rule %q: condition: %w", r.Name, err)
		}
		if r.Clear != "" {
			if c.clear, err = compileExpr(r.Clear); err != nil {
				return nil, fmt.Errorf("rule %q: clear: %w", r.Name, err)
			}
		}
		if r.Threshold != nil {
			c.thr, c.hasThr = *r.Threshold, true
		}
		c.primary = r.Value
		for _, id := range c.cond.idents {
			if !isFact(id) {
				if c.primary == "" {
					c.primary = id
				}
				add(id)
			}
		}
	case r.Band != nil:
		c.kind = kindBand
		c.primary = r.Band.Value
		c.hasThr, c.thr = true, bound(r.Band.Above, r.Band.Below)
	case r.Rate != nil:
		c.kind = kindRate
		c.primary = r.Rate.Value
		c.hasThr, c.thr = true, bound(r.Rate.Above, r.Rate.Below)
	case r.Stuck != nil:
		c.kind = kindStuck
		c.primary = r.Stuck.Value
	case r.NoData != nil:
		c.kind = kindNoData
		c.hasThr, c.thr = true, float64(r.NoData.Polls)
	case r.Disagree != nil:
		c.kind = kindDisagree
		c.primary = r.Disagree.Value
		c.hasThr, c.thr = true, r.Disagree.By
	case r.SensorFault != nil:
		c.kind = kindSensorFault
	default:
		return nil, fmt.Errorf("rule %q: no condition", r.Name)
	}
	if c.kind != kindDisagree {
		add(c.primary)
	}
	for _, n := range r.Values {
		add(n)
	}
	for lang, text := range map[string]string{LangZh: r.Message.Zh, LangEn: r.Message.En,
		"resolved_" + LangZh: r.Message.ResolvedZh, "resolved_" + LangEn: r.Message.ResolvedEn} {
		// A recovery never repeats the alarm's text (its figures would
		// read as current): without a recovery text of its own, a rule
		// gets the default one.
		if text == "" {
			text = defaultMessage[lang]
		}
		if text == "" {
			continue
		}
		t, err := parseTemplate(r.Name+"."+lang, text)
		if err != nil {
			return nil, fmt.Errorf("rule %q: message %s: %w", r.Name, lang, err)
		}
		c.tmpl[lang] = t
	}
	return c, nil
}

// bound returns the bound of a band or rate that is set: above, else
// below (0 if neither).
func bound(above, below *float64) float64 {
	switch {
	case above != nil:
		return *above
	case below != nil:
		return *below
	}
	return 0
}

// isFact reports whether an expression name is a room fact or engine
// variable rather than a sample value.
func isFact(name string) bool {
	switch name {
	case "threshold", "carry_time_min", "dew_point_c":
		return true
	}
	return false
}
