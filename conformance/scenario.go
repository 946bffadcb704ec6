// Package conformance is CareBridge's conformance kit: it loads suites of
// YAML scenario files (format in conformance/README.md), runs them against a
// FHIR server as one or more client systems (actors), and reports the
// results to the console, JUnit XML, HTML and JSON. The built-in suites are
// embedded; `conformance init` prepares keys and configuration to test a
// CareBridge deployment with them.
package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A Suite is a folder of scenario files.
type Suite struct {
	Name        string            `yaml:"suite"`
	Title       string            `yaml:"title"`
	Description string            `yaml:"description"`
	Tags        []string          `yaml:"tags"`
	Variables   yaml.Node         `yaml:"variables"` // defaults, in order, for every file
	Scenarios   []*Scenario       `yaml:"-"`
	fsys        fs.FS             // where its files are
	dir         string            // the suite's folder within fsys
	vars        []namedExpression // Variables, decoded
}

// A Scenario is one file: setup, tests and teardown sharing its variables.
type Scenario struct {
	Title       string    `yaml:"title"`
	Description string    `yaml:"description"`
	Tags        []string  `yaml:"tags"`
	Requires    []string  `yaml:"requires"`
	Variables   yaml.Node `yaml:"variables"`
	Setup       []*Step   `yaml:"setup"`
	Tests       []*Test   `yaml:"tests"`
	Teardown    []*Step   `yaml:"teardown"`

	File  string            `yaml:"-"` // path within the suite folder
	vars  []namedExpression // Variables, decoded in order
	suite *Suite
}

// A Test is a named list of steps; it passes when every step passes.
type Test struct {
	Name     string   `yaml:"name"`
	Tags     []string `yaml:"tags"`
	Requires []string `yaml:"requires"`
	Steps    []*Step  `yaml:"steps"`
}

// A Step sends one request as one actor, checks the answer and captures
// values from it.
type Step struct {
	Name    string             `yaml:"name"`
	As      string             `yaml:"as"`
	Request Request            `yaml:"request"`
	Expect  Expect             `yaml:"expect"`
	Capture map[string]Capture `yaml:"capture"`
	Retry   *Retry             `yaml:"retry"`
}

// A Request is what a step sends.
type Request struct {
	Method      string            `yaml:"method"`
	Path        string            `yaml:"path"`
	URL         string            `yaml:"url"`
	Query       yaml.Node         `yaml:"query"` // a mapping; order kept
	Headers     map[string]string `yaml:"headers"`
	Body        any               `yaml:"body"`
	BodyFile    string            `yaml:"bodyFile"`
	Form        yaml.Node         `yaml:"form"` // a mapping; order kept
	ContentType string            `yaml:"contentType"`
	Auth        string            `yaml:"auth"`
}

// Expect is what the answer must be.
type Expect struct {
	Status      StatusSet            `yaml:"status"`
	Headers     map[string]Assertion `yaml:"headers"`
	Body        []Assertion          `yaml:"body"`
	Outcome     []string             `yaml:"outcome"`
	NotContains []string             `yaml:"notContains"`
}

// A Capture takes a value from the answer into a variable.
type Capture struct {
	Path   string `yaml:"path"`
	Header string `yaml:"header"`
	Regex  string `yaml:"regex"` // optional: the first group (or the whole match) of the value

	expr *Expr
	re   *regexp.Regexp
}

// Retry repeats a step until its expectations hold.
type Retry struct {
	Times int           `yaml:"times"`
	Every time.Duration `yaml:"every"`
}

// A StatusSet is the statuses a step accepts: numbers and classes ("2xx").
type StatusSet struct {
	codes   []int
	classes []int
}

// Empty reports whether no status was given (anything is accepted).
func (s StatusSet) Empty() bool { return len(s.codes) == 0 && len(s.classes) == 0 }

// Allows reports whether the status code is accepted.
func (s StatusSet) Allows(code int) bool {
	if s.Empty() {
		return true
	}
	for _, c := range s.codes {
		if c == code {
			return true
		}
	}
	for _, c := range s.classes {
		if code/100 == c {
			return true
		}
	}
	return false
}

// Names reports whether the code is listed by number (not by class).
func (s StatusSet) Names(code int) bool {
	for _, c := range s.codes {
		if c == code {
			return true
		}
	}
	return false
}

func (s StatusSet) String() string {
	var parts []string
	for _, c := range s.codes {
		parts = append(parts, strconv.Itoa(c))
	}
	for _, c := range s.classes {
		parts = append(parts, fmt.Sprintf("%dxx", c))
	}
	return strings.Join(parts, " or ")
}

// UnmarshalYAML reads 201, "2xx" or [200, 201].
func (s *StatusSet) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		v := strings.ToLower(strings.TrimSpace(it.Value))
		if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
			s.classes = append(s.classes, int(v[0]-'0'))
			continue
		}
		c, err := strconv.Atoi(v)
		if err != nil || c < 100 || c > 599 {
			return fmt.Errorf("line %d: status %q is not an HTTP status or class such as 4xx", it.Line, it.Value)
		}
		s.codes = append(s.codes, c)
	}
	return nil
}

// An Assertion checks an expression's result (or a header's values) with
// one or more operators.
type Assertion struct {
	Path        string
	WarningOnly bool
	Ops         []Op
	Line        int

	expr *Expr
}

// An Op is one operator of an assertion and its expected value (which may
// hold ${...}).
type Op struct {
	Name  string
	Value any
}

// assertionOps is every operator an assertion may use.
var assertionOps = map[string]bool{
	"equals": true, "notEquals": true, "oneOf": true, "contains": true, "notContains": true,
	"matches": true, "exists": true, "count": true, "greaterThan": true, "lessThan": true,
}

// UnmarshalYAML reads {path: ..., equals: ..., warningOnly: true}.
func (a *Assertion) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an assertion is a mapping such as {path: id, exists: true}", n.Line)
	}
	a.Line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch {
		case key == "path":
			a.Path = val.Value
		case key == "warningOnly":
			if err := val.Decode(&a.WarningOnly); err != nil {
				return fmt.Errorf("line %d: warningOnly: %w", val.Line, err)
			}
		case assertionOps[key]:
			var v any
			if err := val.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %s: %w", val.Line, key, err)
			}
			a.Ops = append(a.Ops, Op{Name: key, Value: v})
		default:
			return fmt.Errorf("line %d: %q is not an assertion operator (equals, notEquals, oneOf, contains, notContains, matches, exists, count, greaterThan, lessThan, warningOnly)", n.Content[i].Line, key)
		}
	}
	if len(a.Ops) == 0 {
		return fmt.Errorf("line %d: the assertion has no operator", n.Line)
	}
	return nil
}

// namedExpression is one entry of a variables mapping.
type namedExpression struct {
	name  string
	value any
}

// decodeVariables reads a mapping of variables, keeping its order.
func decodeVariables(n yaml.Node) ([]namedExpression, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: variables is a mapping of names to values", n.Line)
	}
	var out []namedExpression
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v any
		if err := n.Content[i+1].Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Content[i+1].Line, err)
		}
		out = append(out, namedExpression{name: n.Content[i].Value, value: v})
	}
	return out, nil
}

// decodePairs reads a mapping of names to scalars (query, form), keeping
// its order; a sequence value repeats the name.
func decodePairs(n yaml.Node) ([][2]string, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a mapping of names to values", n.Line)
	}
	var out [][2]string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.SequenceNode {
			for _, e := range v.Content {
				out = append(out, [2]string{k, e.Value})
			}
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s: give a value or a list of values", v.Line, k)
		}
		out = append(out, [2]string{k, v.Value})
	}
	return out, nil
}

// LoadSuite reads the suite in dir of fsys: suite.yaml and every other
// *.yaml file in it, in name order. Every mistake found is reported, with
// its file.
func LoadSuite(fsys fs.FS, dir string) (*Suite, error) {
	raw, err := fs.ReadFile(fsys, path.Join(dir, "suite.yaml"))
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", dir, err)
	}
	s := &Suite{fsys: fsys, dir: dir}
	if err := strictDecode(raw, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(dir, "suite.yaml"), err)
	}
	if s.Name == "" {
		s.Name = path.Base(dir)
	}
	if s.vars, err = decodeVariables(s.Variables); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(dir, "suite.yaml"), err)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "suite.yaml" || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		sc, err := loadScenario(fsys, dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc.suite = s
		s.Scenarios = append(s.Scenarios, sc)
	}
	sort.Slice(s.Scenarios, func(i, j int) bool { return s.Scenarios[i].File < s.Scenarios[j].File })
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(s.Scenarios) == 0 {
		return nil, fmt.Errorf("suite %s has no scenario files", dir)
	}
	return s, nil
}

func strictDecode(raw []byte, into any) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		return err
	}
	return nil
}

// loadScenario reads and checks one scenario file.
func loadScenario(fsys fs.FS, dir, name string) (*Scenario, error) {
	file := path.Join(dir, name)
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	sc := &Scenario{File: name}
	if err := strictDecode(raw, sc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if sc.vars, err = decodeVariables(sc.Variables); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	fail := func(where string, err error) { errs = append(errs, fmt.Errorf("%s: %s: %w", file, where, err)) }
	if sc.Title == "" {
		fail("title", errors.New("every scenario file needs a title"))
	}
	if len(sc.Tests) == 0 {
		fail("tests", errors.New("no tests"))
	}
	check := func(where string, steps []*Step) {
		for i, st := range steps {
			if err := st.check(fsys, dir); err != nil {
				fail(fmt.Sprintf("%s step %d", where, i+1), err)
			}
		}
	}
	check("setup", sc.Setup)
	check("teardown", sc.Teardown)
	seen := map[string]bool{}
	for i, t := range sc.Tests {
		if t.Name == "" {
			fail(fmt.Sprintf("test %d", i+1), errors.New("no name"))
		}
		if seen[t.Name] {
			fail(fmt.Sprintf("test %q", t.Name), errors.New("two tests of one file have this name"))
		}
		seen[t.Name] = true
		if len(t.Steps) == 0 {
			fail(fmt.Sprintf("test %q", t.Name), errors.New("no steps"))
		}
		check(fmt.Sprintf("test %q", t.Name), t.Steps)
	}
	return sc, errors.Join(errs...)
}

// check compiles a step's expressions and checks what can be checked
// before anything runs.
func (st *Step) check(fsys fs.FS, dir string) error {
	r := &st.Request
	r.Method = strings.ToUpper(r.Method)
	if r.Method == "" {
		r.Method = "GET"
	}
	switch {
	case r.Path == "" && r.URL == "":
		return errors.New("request needs a path or a url")
	case r.Path != "" && r.URL != "":
		return errors.New("request has both a path and a url")
	case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("path %q must begin with /", r.Path)
	}
	bodies := 0
	for _, present := range []bool{r.Body != nil, r.BodyFile != "", r.Form.Kind != 0} {
		if present {
			bodies++
		}
	}
	if bodies > 1 {
		return errors.New("request has more than one of body, bodyFile and form")
	}
	if r.BodyFile != "" {
		if _, err := fs.Stat(fsys, path.Join(dir, r.BodyFile)); err != nil {
			return fmt.Errorf("bodyFile: %w", err)
		}
	}
	if _, err := decodePairs(r.Query); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if _, err := decodePairs(r.Form); err != nil {
		return fmt.Errorf("form: %w", err)
	}
	for i := range st.Expect.Body {
		a := &st.Expect.Body[i]
		if a.Path == "" {
			return fmt.Errorf("line %d: a body assertion needs a path", a.Line)
		}
		if strings.Contains(a.Path, "${") {
			continue // compiled when it runs
		}
		e, err := CompileExpr(a.Path)
		if err != nil {
			return fmt.Errorf("line %d: %w", a.Line, err)
		}
		a.expr = e
	}
	for name, a := range st.Expect.Headers {
		if a.Path != "" {
			return fmt.Errorf("line %d: header %s: a header assertion takes no path", a.Line, name)
		}
	}
	for name, c := range st.Capture {
		if (c.Path == "") == (c.Header == "") {
			return fmt.Errorf("capture %s: give a path or a header", name)
		}
		if c.Path != "" && !strings.Contains(c.Path, "${") {
			e, err := CompileExpr(c.Path)
			if err != nil {
				return fmt.Errorf("capture %s: %w", name, err)
			}
			c.expr = e
		}
		if c.Regex != "" {
			re, err := regexp.Compile(c.Regex)
			if err != nil {
				return fmt.Errorf("capture %s: %w", name, err)
			}
			c.re = re
		}
		st.Capture[name] = c
	}
	if st.Retry != nil && (st.Retry.Times < 1 || st.Retry.Every < 0) {
		return errors.New("retry needs times of at least 1")
	}
	return nil
}

// TestTags is every tag of a test: its suite's, its file's and its own.
func (sc *Scenario) TestTags(t *Test) []string {
	var all []string
	if sc.suite != nil {
		all = append(all, sc.suite.Tags...)
	}
	all = append(all, sc.Tags...)
	return append(all, t.Tags...)
}

// A TagFilter selects tests by tag: any of Include (all when empty), none
// of Exclude.
type TagFilter struct{ Include, Exclude []string }

// ParseTags reads "a,b,!c".
func ParseTags(s string) TagFilter {
	var f TagFilter
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
		case strings.HasPrefix(t, "!"):
			f.Exclude = append(f.Exclude, strings.TrimSpace(t[1:]))
		default:
			f.Include = append(f.Include, t)
		}
	}
	return f
}

// Match reports whether a test with these tags is selected.
func (f TagFilter) Match(tags []string) bool {
	has := func(want string) bool {
		for _, t := range tags {
			if t == want {
				return true
			}
		}
		return false
	}
	for _, x := range f.Exclude {
		if has(x) {
			return false
		}
	}
	if len(f.Include) == 0 {
		return true
	}
	for _, in := range f.Include {
		if has(in) {
			return true
		}
	}
	return false
}
