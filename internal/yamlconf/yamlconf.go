// Package yamlconf is the configuration format every part of roomwatch
// shares (monitor, rules, profiles, alarms, records): it decodes YAML files
// strictly, reports problems as "file:line: field: message" so that the
// person who edits the file is sent to the right line, and holds the Secret
// type for passwords read from the file, the environment or a file.
package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// File is a decoded YAML document that can locate a field path.
type File struct {
	Name string
	root *yaml.Node
}

// Decode decodes data into out, rejecting unknown keys, and returns a File
// for locating fields in later validation errors.
func Decode(name string, data []byte, out any) (*File, error) {
	f := &File{Name: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, trimYAML(err))
	}
	if len(doc.Content) > 0 {
		f.root = doc.Content[0]
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", name, trimYAML(err))
	}
	return f, nil
}

// trimYAML turns "yaml: line 3: field x not found in type T" into
// "line 3: field x not found in type T"; several errors join with "; ".
func trimYAML(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
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

// Errors collects validation problems for one file.
type Errors struct {
	File *File
	list []string
}

// Addf records a problem with the field at path.
func (e *Errors) Addf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	name := "<config>"
	if e.File != nil {
		name = e.File.Name
	}
	if line := e.File.Line(path); line > 0 {
		name = fmt.Sprintf("%s:%d", name, line)
	}
	if path != "" {
		msg = path + ": " + msg
	}
	e.list = append(e.list, name+": "+msg)
}

// Err returns nil when nothing was recorded, or one error listing every
// problem on its own line.
func (e *Errors) Err() error {
	if len(e.list) == 0 {
		return nil
	}
	return errors.New(strings.Join(e.list, "\n"))
}
