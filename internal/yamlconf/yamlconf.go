// Package yamlconf is the configuration format every part of roomwatch
// shares (monitor, rules, profiles, alarms, records): it decodes YAML files
// strictly, reports every problem as "FILE:LINE: field.path: problem
// (hint)" in words rather than Go types, sorted by line, so that the
// person who edits the file is sent to the right line; it bounds the work
// a file can cause (size, alias expansion, what a file may name), and
// holds the types every file shares: Secret (passwords from the file, the
// environment or a file) and Size (64MiB, 1GiB, 500MB or bytes).
package yamlconf

import (
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a configuration, rules or profile file: the largest
// real one is a few tens of kilobytes.
const MaxFileSize = 1 << 20

// File is a decoded YAML document that can locate a field path.
type File struct {
	Name string
	root *yaml.Node
}

// Empty reports whether the document holds nothing (an empty file or
// only comments).
func (f *File) Empty() bool { return f == nil || f.root == nil || isNull(f.root) }

// Decode decodes data into out and returns a File for locating fields in
// later validation errors. Problems come back as a List, each with its
// line and field path, in words rather than Go types: a key out does not
// have ("unknown field \"adress\" (did you mean \"address\"?)"), a value
// that does not fit its field ("\"5\" is not a duration"), a secret whose
// variable is not set. A file over MaxFileSize, or whose aliases expand
// past MaxValues, is refused before any work that grows with it.
func Decode(name string, data []byte, out any) (*File, error) {
	f := &File{Name: name}
	errs := &Errors{File: f}
	if len(data) > MaxFileSize {
		errs.AddAt(0, "", "the file is %s; a configuration file is at most %s", Size(len(data)), Size(MaxFileSize))
		return nil, errs.Err()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := syntaxProblem(err)
		errs.AddAt(line, "", "%s", msg)
		return nil, errs.Err()
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	f.root = doc.Content[0]
	c := checker{errs: errs}
	c.walk(f.root, reflect.TypeOf(out).Elem(), "")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := f.root.Decode(out); err != nil {
		errs.AddAt(0, "", "%s", cleanMessage(err))
		return nil, errs.Err()
	}
	return f, nil
}

// Line returns the line of the node at path, such as
// "sites[0].rooms[1].devices[2].interval", or of its nearest existing
// parent; 0 if nothing is known.
func (f *File) Line(path string) int {
	if f == nil || f.root == nil {
		return 0
	}
	n := f.root
	line := n.Line
	for _, part := range splitPath(path) {
		n = child(n, part)
		if n == nil {
			break
		}
		line = n.Line
	}
	return line
}

func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, ".") {
		for p != "" {
			i := strings.IndexByte(p, '[')
			if i < 0 {
				parts = append(parts, p)
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			j := strings.IndexByte(p, ']')
			if j < i {
				parts = append(parts, p[i:])
				break
			}
			parts = append(parts, p[i:j+1])
			p = p[j+1:]
		}
	}
	return parts
}

func child(n *yaml.Node, part string) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if strings.HasPrefix(part, "[") {
		i, err := strconv.Atoi(strings.Trim(part, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			// The value node: an inline scalar sits on its key's line,
			// a block starts on its own first line.
			return n.Content[i+1]
		}
	}
	return nil
}
