package yamlconf

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// MaxValues bounds the values a document may hold once its aliases are
// expanded: a real configuration has a few thousand; a "billion laughs"
// document of a few hundred bytes would expand to billions and keep a
// check or a reload busy for hours.
const MaxValues = 100_000

// checker walks a YAML node tree against the Go type it decodes into and
// records, in words a person reads, every key the type does not have and
// every value that does not fit its field, each with its field path and
// line. It decodes nothing itself.
type checker struct {
	errs   *Errors
	values int
	// stopped is set when the document exceeds MaxValues.
	stopped bool
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	if c.stopped || n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	c.values++
	if c.values > MaxValues {
		c.stopped = true
		c.errs.AddAt(n.Line, "", "the document holds more than %d values once its aliases (*name) are expanded: write the values out, or use fewer aliases", MaxValues)
		return
	}
	if isNull(n) {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.errs.AddAt(n.Line, path, "%s", cleanMessage(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.walk(n, t.Elem(), path)
	case reflect.Interface:
		// Any value fits; count what it holds.
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			for i, e := range n.Content {
				c.walk(e, t, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case reflect.Struct:
		c.walkStruct(n, t, path)
	case reflect.Map:
		if !c.want(n, yaml.MappingNode, path) {
			return
		}
		c.walkMapping(n, path, func(k, v *yaml.Node) {
			c.walk(k, t.Key(), path)
			c.walk(v, t.Elem(), Join(path, k.Value))
		})
	case reflect.Slice, reflect.Array:
		if !c.want(n, yaml.SequenceNode, path) {
			return
		}
		for i, e := range n.Content {
			c.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		c.scalar(n, t, path)
	}
}

// walkStruct checks a mapping against the yaml keys of struct type t.
func (c *checker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	if !c.want(n, yaml.MappingNode, path) {
		return
	}
	fields := yamlFields(t)
	c.walkMapping(n, path, func(k, v *yaml.Node) {
		f, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest(k.Value, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			c.errs.AddAt(k.Line, path, "%s", msg)
			return
		}
		c.walk(v, t.FieldByIndex(f).Type, Join(path, k.Value))
	})
}

// walkMapping calls each for every key and value of mapping n, with the
// keys merged in by "<<: *anchor" first, and records a key given twice.
func (c *checker) walkMapping(n *yaml.Node, path string, each func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && !c.stopped; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if isMerge(k) {
			c.walkMerge(v, path, each)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.errs.AddAt(k.Line, path, "a key is a name, not %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			c.errs.AddAt(k.Line, Join(path, k.Value), "given twice (also on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		each(k, v)
	}
}

func (c *checker) walkMerge(v *yaml.Node, path string, each func(k, v *yaml.Node)) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		c.values++
		c.walkMapping(v, path, each)
	case yaml.SequenceNode:
		for _, m := range v.Content {
			c.walkMerge(m, path, each)
		}
	default:
		c.errs.AddAt(v.Line, path, "<< merges a mapping (<<: *name), not %s", describe(v))
	}
}

// want records a problem unless n is of kind k.
func (c *checker) want(n *yaml.Node, k yaml.Kind, path string) bool {
	if n.Kind == k {
		return true
	}
	what := "a list (- item, or [a, b])"
	if k == yaml.MappingNode {
		what = "a mapping (key: value)"
	}
	c.errs.AddAt(n.Line, path, "want %s, not %s", what, describe(n))
	return false
}

// scalar checks a value for a string, bool, number or duration field.
func (c *checker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		c.errs.AddAt(n.Line, path, "want %s, not %s", kindWord(t), describe(n))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err == nil {
		return
	}
	c.errs.AddAt(n.Line, path, "%s", scalarProblem(n.Value, t))
}

// scalarProblem says in words why text does not fit type t.
func scalarProblem(text string, t reflect.Type) string {
	switch {
	case t == durationType:
		return fmt.Sprintf("%q is not a duration (write 30s, 5m, 1h30m)", text)
	case t.Kind() == reflect.Bool:
		return fmt.Sprintf("%q is not true or false", text)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		lo, hi := int64(math.MinInt64)>>(64-t.Bits()), int64(math.MaxInt64)>>(64-t.Bits())
		if _, err := strconv.ParseFloat(text, 64); err == nil {
			return fmt.Sprintf("%s: want a whole number from %d to %d", text, lo, hi)
		}
		return fmt.Sprintf("%q is not a whole number", text)
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr:
		hi := uint64(math.MaxUint64) >> (64 - t.Bits())
		if _, err := strconv.ParseFloat(text, 64); err == nil {
			return fmt.Sprintf("%s: want a whole number from 0 to %d", text, hi)
		}
		return fmt.Sprintf("%q is not a whole number", text)
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return fmt.Sprintf("%q is not a number", text)
	}
	return fmt.Sprintf("%q is not %s", text, kindWord(t))
}

// kindWord names what a field of type t holds, as a person says it.
func kindWord(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (30s, 5m)"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uintptr:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "a text"
}

// describe names what node n is, as a person reads the file.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// yamlFields maps the yaml keys of struct type t (with inlined structs)
// to field indexes.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, idx := range yamlFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

var (
	yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	goTypeRE   = regexp.MustCompile(` into [\w./\[\]*]+$`)
)

// cleanMessage turns an error from YAML decoding into a message without
// the "yaml:" prefix, a line number (the caller knows it) or Go type
// names.
func cleanMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = cleanText(m)
		}
		return strings.Join(msgs, "; ")
	}
	return cleanText(err.Error())
}

func cleanText(s string) string {
	s = strings.TrimPrefix(s, "yaml: ")
	s = yamlLineRE.ReplaceAllString(s, "")
	if strings.HasPrefix(s, "cannot unmarshal ") {
		s = goTypeRE.ReplaceAllString(s, "")
		s = strings.Replace(s, "cannot unmarshal ", "cannot read ", 1)
	}
	return s
}

// syntaxProblem splits a YAML syntax error into its line and message.
func syntaxProblem(err error) (int, string) {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(s); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, s[len(m[0]):]
	}
	return 0, s
}
