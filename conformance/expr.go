package conformance

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// An Expr is a compiled expression of the kit's FHIRPath subset. It is
// evaluated over decoded JSON (maps, slices, strings, float64s, bools) and
// gives a collection, as FHIRPath does.
type Expr struct {
	src  string
	root node
}

// String is the expression's source text.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression with body as its input ($this).
func (e *Expr) Eval(body any) ([]any, error) {
	if body == nil {
		return nil, nil
	}
	out, err := e.root.eval(evalCtx{this: body}, []any{body})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.src, err)
	}
	return out, nil
}

// CompileExpr parses an expression of the subset conformance/README.md
// documents: navigation, indexes, where(), first(), last(), count(),
// exists(), empty(), ofType(), distinct(), not(), comparisons, and, or.
func CompileExpr(src string) (*Expr, error) {
	p := &exprParser{src: src}
	if err := p.lex(); err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	root, err := p.parseOr()
	if err == nil && !p.done() {
		err = fmt.Errorf("unexpected %q", p.peek().text)
	}
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	return &Expr{src: src, root: root}, nil
}

type evalCtx struct{ this any }

type node interface {
	// eval gives the node's collection for the input collection in.
	eval(c evalCtx, in []any) ([]any, error)
}

// A pathNode applies its steps in turn, each to the collection the last gave.
type pathNode struct{ steps []node }

func (n pathNode) eval(c evalCtx, in []any) ([]any, error) {
	cur := in
	for _, s := range n.steps {
		var err error
		if cur, err = s.eval(c, cur); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// A memberNode selects a member of every object of its input, flattening
// arrays. A name that is the input resource's type is the resource itself,
// so that Bundle.entry works as in FHIRPath.
type memberNode struct {
	name  string
	first bool // the first step of a path: may name the resource type
}

func (n memberNode) eval(_ evalCtx, in []any) ([]any, error) {
	var out []any
	for _, v := range in {
		obj, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if n.first && obj["resourceType"] == n.name {
			out = append(out, obj)
			continue
		}
		switch m := obj[n.name].(type) {
		case nil:
		case []any:
			out = append(out, m...)
		default:
			out = append(out, m)
		}
	}
	return out, nil
}

// An indexNode picks one item of its input.
type indexNode struct{ i int }

func (n indexNode) eval(_ evalCtx, in []any) ([]any, error) {
	if n.i < 0 || n.i >= len(in) {
		return nil, nil
	}
	return []any{in[n.i]}, nil
}

type literalNode struct{ v any }

func (n literalNode) eval(evalCtx, []any) ([]any, error) { return []any{n.v}, nil }

type thisNode struct{}

func (thisNode) eval(c evalCtx, _ []any) ([]any, error) { return []any{c.this}, nil }

// A funcNode is a function invocation on its input collection.
type funcNode struct {
	name string
	args []node
}

func (n funcNode) eval(c evalCtx, in []any) ([]any, error) {
	switch n.name {
	case "first":
		if len(in) == 0 {
			return nil, nil
		}
		return in[:1], nil
	case "last":
		if len(in) == 0 {
			return nil, nil
		}
		return in[len(in)-1:], nil
	case "count":
		return []any{float64(len(in))}, nil
	case "empty":
		return []any{len(in) == 0}, nil
	case "exists":
		if len(n.args) == 0 {
			return []any{len(in) > 0}, nil
		}
		hits, err := filter(c, in, n.args[0])
		return []any{len(hits) > 0}, err
	case "where":
		return filter(c, in, n.args[0])
	case "select":
		var out []any
		for _, v := range in {
			got, err := n.args[0].eval(evalCtx{this: v}, []any{v})
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		return out, nil
	case "not":
		b, ok := truth(in)
		if !ok {
			return nil, nil
		}
		return []any{!b}, nil
	case "distinct":
		var out []any
		seen := map[string]bool{}
		for _, v := range in {
			k := canonical(v)
			if !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
		return out, nil
	case "ofType":
		typ := n.args[0].(memberNode).name
		var out []any
		for _, v := range in {
			if obj, ok := v.(map[string]any); ok && obj["resourceType"] == typ {
				out = append(out, obj)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown function %s()", n.name)
}

// filter keeps the items of in for which cond, evaluated on each alone, is
// true.
func filter(c evalCtx, in []any, cond node) ([]any, error) {
	var out []any
	for _, v := range in {
		got, err := cond.eval(evalCtx{this: v}, []any{v})
		if err != nil {
			return nil, err
		}
		if b, ok := truth(got); ok && b {
			out = append(out, v)
		}
	}
	return out, nil
}

// truth is a collection's boolean value: a single boolean, or a single
// other item (true), or empty (unknown).
func truth(c []any) (value, known bool) {
	if len(c) != 1 {
		return false, false
	}
	if b, ok := c[0].(bool); ok {
		return b, true
	}
	return true, true
}

// A binaryNode is a comparison or a boolean operator.
type binaryNode struct {
	op          string
	left, right node
}

func (n binaryNode) eval(c evalCtx, in []any) ([]any, error) {
	l, err := n.left.eval(c, in)
	if err != nil {
		return nil, err
	}
	r, err := n.right.eval(c, in)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and", "or":
		lb, lok := truth(l)
		rb, rok := truth(r)
		if n.op == "and" {
			if (lok && !lb) || (rok && !rb) {
				return []any{false}, nil
			}
			if lok && rok {
				return []any{true}, nil
			}
			return nil, nil
		}
		if (lok && lb) || (rok && rb) {
			return []any{true}, nil
		}
		if lok && rok {
			return []any{false}, nil
		}
		return nil, nil
	}
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	if len(l) != 1 || len(r) != 1 {
		if n.op == "=" || n.op == "!=" {
			eq := len(l) == len(r)
			for i := 0; eq && i < len(l); i++ {
				eq = valuesEqual(l[i], r[i])
			}
			return []any{eq == (n.op == "=")}, nil
		}
		return nil, fmt.Errorf("%s compares single values, got %d and %d", n.op, len(l), len(r))
	}
	switch n.op {
	case "=":
		return []any{valuesEqual(l[0], r[0])}, nil
	case "!=":
		return []any{!valuesEqual(l[0], r[0])}, nil
	}
	cmp, ok := compareValues(l[0], r[0])
	if !ok {
		return nil, nil
	}
	switch n.op {
	case "<":
		return []any{cmp < 0}, nil
	case "<=":
		return []any{cmp <= 0}, nil
	case ">":
		return []any{cmp > 0}, nil
	default:
		return []any{cmp >= 0}, nil
	}
}

// valuesEqual compares two JSON values. A string and a number or boolean
// compare by their text, so that "1" and 1 are equal: versions and counts
// are written both ways.
func valuesEqual(a, b any) bool {
	a, b = normalise(a), normalise(b)
	if canonical(a) == canonical(b) {
		return true
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	switch {
	case aStr && !bStr:
		return as == scalarText(b)
	case bStr && !aStr:
		return bs == scalarText(a)
	}
	return false
}

// compareValues orders two values: numbers as numbers, anything else as
// text (ISO 8601 dates and instants of one precision order rightly).
func compareValues(a, b any) (int, bool) {
	af, aNum := number(a)
	bf, bNum := number(b)
	if aNum && bNum {
		switch {
		case af < bf:
			return -1, true
		case af > bf:
			return 1, true
		}
		return 0, true
	}
	as, bs := scalarText(a), scalarText(b)
	if as == "" && bs == "" {
		return 0, false
	}
	return strings.Compare(as, bs), true
}

// number reads a value as a number: JSON numbers, and strings that parse.
func number(v any) (float64, bool) {
	switch x := normalise(v).(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// normalise turns the numbers YAML and JSON decoders give into float64.
func normalise(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err == nil {
			return f
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(e)
		}
		return out
	}
	return v
}

// scalarText is a scalar's text (strings as they are, numbers without
// exponent, booleans as true/false); "" for objects and arrays.
func scalarText(v any) string {
	switch x := normalise(v).(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return ""
}

// canonical is a value's JSON text with sorted keys: equal values give
// equal text.
func canonical(v any) string {
	b, err := json.Marshal(normalise(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ---- parser ----

type token struct {
	kind string // ident, string, number, op, punct
	text string
}

type exprParser struct {
	src  string
	toks []token
	pos  int
}

func (p *exprParser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return fmt.Errorf("unterminated string at %d", i)
			}
			p.toks = append(p.toks, token{"string", b.String()})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			p.toks = append(p.toks, token{"number", s[i:j]})
			i = j
		case c == '$' || c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '-' && j+1 < len(s) && isIdent(s[j+1]) || isIdent(s[j])) {
				j++
			}
			p.toks = append(p.toks, token{"ident", s[i:j]})
			i = j
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return fmt.Errorf("unterminated `name` at %d", i)
			}
			p.toks = append(p.toks, token{"ident", s[i+1 : i+1+j]})
			i += j + 2
		case strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			p.toks = append(p.toks, token{"op", s[i : i+2]})
			i += 2
		case c == '=' || c == '<' || c == '>':
			p.toks = append(p.toks, token{"op", string(c)})
			i++
		case strings.IndexByte(".()[],", c) >= 0:
			p.toks = append(p.toks, token{"punct", string(c)})
			i++
		default:
			return fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (p *exprParser) done() bool { return p.pos >= len(p.toks) }

func (p *exprParser) peek() token {
	if p.done() {
		return token{}
	}
	return p.toks[p.pos]
}

func (p *exprParser) accept(kind, text string) bool {
	if t := p.peek(); t.kind == kind && t.text == text {
		p.pos++
		return true
	}
	return false
}

func (p *exprParser) expect(kind, text string) error {
	if !p.accept(kind, text) {
		if p.done() {
			return fmt.Errorf("expected %q at the end", text)
		}
		return fmt.Errorf("expected %q, found %q", text, p.peek().text)
	}
	return nil
}

func (p *exprParser) parseOr() (node, error) {
	left, err := p.parseAnd()
	for err == nil && p.accept("ident", "or") {
		var right node
		if right, err = p.parseAnd(); err == nil {
			left = binaryNode{"or", left, right}
		}
	}
	return left, err
}

func (p *exprParser) parseAnd() (node, error) {
	left, err := p.parseCompare()
	for err == nil && p.accept("ident", "and") {
		var right node
		if right, err = p.parseCompare(); err == nil {
			left = binaryNode{"and", left, right}
		}
	}
	return left, err
}

func (p *exprParser) parseCompare() (node, error) {
	left, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == "op" {
		p.pos++
		right, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		return binaryNode{t.text, left, right}, nil
	}
	return left, nil
}

// functions is every function the subset knows, with its argument count.
var functions = map[string]int{
	"first": 0, "last": 0, "count": 0, "empty": 0, "not": 0, "distinct": 0,
	"exists": -1, "where": 1, "select": 1, "ofType": 1,
}

func (p *exprParser) parsePath() (node, error) {
	var steps []node
	first := true
	for {
		t := p.peek()
		switch {
		case t.kind == "string" && first:
			p.pos++
			steps = append(steps, literalNode{t.text})
		case t.kind == "number" && first:
			p.pos++
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, fmt.Errorf("number %q: %w", t.text, err)
			}
			steps = append(steps, literalNode{f})
		case t.kind == "punct" && t.text == "(" && first:
			p.pos++
			inner, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("punct", ")"); err != nil {
				return nil, err
			}
			steps = append(steps, inner)
		case t.kind == "ident":
			p.pos++
			step, err := p.parseInvocation(t.text, first)
			if err != nil {
				return nil, err
			}
			steps = append(steps, step)
		default:
			if t.text == "" {
				return nil, fmt.Errorf("expression ends too soon")
			}
			return nil, fmt.Errorf("unexpected %q", t.text)
		}
		first = false
		for p.accept("punct", "[") {
			t := p.peek()
			i, err := strconv.Atoi(t.text)
			if t.kind != "number" || err != nil {
				return nil, fmt.Errorf("index %q is not a whole number", t.text)
			}
			p.pos++
			if err := p.expect("punct", "]"); err != nil {
				return nil, err
			}
			steps = append(steps, indexNode{i})
		}
		if !p.accept("punct", ".") {
			break
		}
	}
	if len(steps) == 1 {
		return steps[0], nil
	}
	return pathNode{steps}, nil
}

func (p *exprParser) parseInvocation(name string, first bool) (node, error) {
	switch {
	case name == "$this":
		return thisNode{}, nil
	case first && (name == "true" || name == "false"):
		return literalNode{name == "true"}, nil
	case !p.accept("punct", "("):
		return memberNode{name: name, first: first}, nil
	}
	want, ok := functions[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %s()", name)
	}
	var args []node
	for !p.accept("punct", ")") {
		if len(args) > 0 {
			if err := p.expect("punct", ","); err != nil {
				return nil, err
			}
		}
		arg, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
	}
	if want >= 0 && len(args) != want || want < 0 && len(args) > 1 {
		return nil, fmt.Errorf("%s() takes %d arguments, got %d", name, max(want, 1), len(args))
	}
	if name == "ofType" {
		if _, ok := args[0].(memberNode); !ok {
			return nil, fmt.Errorf("ofType() takes a resource type name")
		}
	}
	return funcNode{name: name, args: args}, nil
}
