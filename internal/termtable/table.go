// Package termtable lays out text tables for a terminal. Columns are
// aligned by display width, as a terminal shows them: a Chinese character
// takes two columns, a combining mark none. text/tabwriter counts runes,
// so a table of Chinese texts comes out ragged.
package termtable

import (
	"bufio"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Table is rows of cells, written with two spaces between columns and
// no padding after the last.
type Table struct {
	rows [][]string
}

// Row adds a row of cells.
func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// cond measures characters of ambiguous East Asian width (°, ×, …) as
// one column, as terminals today draw them, whatever the locale says, so
// a table reads the same everywhere.
var cond = func() *runewidth.Condition {
	c := runewidth.NewCondition()
	c.EastAsianWidth = false
	return c
}()

// Width is the display width of s in a terminal.
func Width(s string) int { return cond.StringWidth(s) }

// WriteTo writes the table to w.
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], Width(c))
		}
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, r := range t.rows {
		for i, c := range r {
			bw.WriteString(c)
			if i < len(r)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-Width(c)+2))
			}
		}
		bw.WriteByte('\n')
	}
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
