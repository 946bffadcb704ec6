package sqlindex

import (
	"strconv"
	"strings"
)

// Dialect is what differs between the engines' SQL in the shared fragments.
type Dialect struct {
	// Placeholder returns the text of the n-th parameter, counting from 1.
	Placeholder func(n int) string
	// Contains returns a condition that holds when the text in column col
	// contains, as a substring, the text of parameter p.
	Contains func(col, p string) string
}

// SQLite is the dialect of SQLite: "?" parameters and instr.
var SQLite = Dialect{
	Placeholder: func(int) string { return "?" },
	Contains:    func(col, p string) string { return "instr(" + col + ", " + p + ") > 0" },
}

// Postgres is the dialect of PostgreSQL: "$n" parameters and strpos.
var Postgres = Dialect{
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Contains:    func(col, p string) string { return "strpos(" + col + ", " + p + ") > 0" },
}

// Statement is SQL text being built, with its arguments in order.
type Statement struct {
	d    Dialect
	sql  strings.Builder
	args []any
}

// NewStatement returns an empty Statement in dialect d.
func NewStatement(d Dialect) *Statement {
	return &Statement{d: d}
}

// Write appends SQL text.
func (s *Statement) Write(sql string) {
	s.sql.WriteString(sql)
}

// Arg appends a parameter holding v.
func (s *Statement) Arg(v any) {
	s.args = append(s.args, v)
	s.sql.WriteString(s.d.Placeholder(len(s.args)))
}

// placeholder records v and returns its parameter text without writing it.
func (s *Statement) placeholder(v any) string {
	s.args = append(s.args, v)
	return s.d.Placeholder(len(s.args))
}

// SQL returns the statement's text.
func (s *Statement) SQL() string { return s.sql.String() }

// Args returns the statement's arguments, in parameter order.
func (s *Statement) Args() []any { return s.args }
