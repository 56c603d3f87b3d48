package yamlconf

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong in a file: "FILE:LINE: field.path: message".
// Line 0 means the file as a whole; Path "" a problem not tied to a field.
type Problem struct {
	File string
	Line int
	Path string
	Msg  string
}

// String formats the problem as "file:line: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Path != "" {
		b.WriteString(": ")
		b.WriteString(p.Path)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// List is the problems found in one or more files, in the order a person
// fixes them: file by file (in the order the files were read), by line
// within a file. Its Error prints one problem per line.
type List []Problem

// Error prints one problem per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, p := range l {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted returns l ordered file by file (first appearance) and by line.
func (l List) sorted() List {
	order := map[string]int{}
	for _, p := range l {
		if _, ok := order[p.File]; !ok {
			order[p.File] = len(order)
		}
	}
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b Problem) int {
		if c := order[a.File] - order[b.File]; c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return out
}

// Errors collects the problems of one file.
type Errors struct {
	File *File
	list List
}

func (e *Errors) name() string {
	if e.File == nil || e.File.Name == "" {
		return "<config>"
	}
	return e.File.Name
}

// Addf records a problem with the field at path, at the line of that
// field (or of its nearest parent present in the file).
func (e *Errors) Addf(path, format string, args ...any) {
	e.AddAt(e.File.Line(path), path, format, args...)
}

// AddAt records a problem with the field at path, at a known line.
func (e *Errors) AddAt(line int, path, format string, args ...any) {
	e.list = append(e.list, Problem{File: e.name(), Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Add records err, found while reading the field at path: the problems
// of a List (another file's, such as a rules file the configuration
// names) keep their own file and line; any other error is a problem
// of the field.
func (e *Errors) Add(path string, err error) {
	if err == nil {
		return
	}
	var l List
	if errors.As(err, &l) {
		e.list = append(e.list, l...)
		return
	}
	e.Addf(path, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
}

// Len returns the number of problems recorded.
func (e *Errors) Len() int { return len(e.list) }

// Err returns nil when nothing was recorded, or the problems as a List
// sorted by file and line.
func (e *Errors) Err() error {
	if len(e.list) == 0 {
		return nil
	}
	return e.list.sorted()
}
