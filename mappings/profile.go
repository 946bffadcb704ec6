// Package mappings turns each source system's FHIR into CareBridge's one
// shared-care model (package sharedcare), through mapping profiles: data
// files, one per source system, that integration engineers read, check and
// add without writing Go. It also holds the versioned code sets of the SMI
// register and the health check components. It imports no HTTP framework
// and no database driver.
package mappings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// Profile is one source system's mapping profile. Its YAML schema is
// documented in mappings/README.md.
type Profile struct {
	ID            string          `yaml:"profile"`
	Name          string          `yaml:"name"`
	Side          sharedcare.Side `yaml:"side"`
	Version       string          `yaml:"version"`
	Sources       []string        `yaml:"sources"` // meta.source values that select this profile
	Organisations []Organisation  `yaml:"organisations"`
	Identifiers   Identifiers     `yaml:"identifiers"`
	Codes         Codes           `yaml:"codes"`
	Units         []UnitRule      `yaml:"units"`
	Episodes      EpisodeRules    `yaml:"episodes"`
}

// Organisation is an organisation a source speaks for.
type Organisation struct {
	ODS  string `yaml:"ods"`
	Name string `yaml:"name"`
	Role string `yaml:"role"` // gp-practice | trust | team
}

// Identifiers says which identifier systems the source uses.
type Identifiers struct {
	NHSNumber []string `yaml:"nhsNumber"` // systems read as NHS numbers
	ODS       []string `yaml:"ods"`       // systems read as ODS organisation codes
	// PatientReferences is how the source points at people: "literal"
	// (Patient/123), "nhs-number" (identifier only) or "either".
	PatientReferences string `yaml:"patientReferences"`
}

// Codes says how the source's codes become SNOMED CT.
type Codes struct {
	PassThrough []string  `yaml:"passThrough"` // systems taken as they are (SNOMED CT)
	Maps        []CodeMap `yaml:"maps"`
}

// CodeMap is a ConceptMap-style group: codes of one source system, each
// translated to a target code.
type CodeMap struct {
	Name     string        `yaml:"name"`
	Source   string        `yaml:"source"`
	Target   string        `yaml:"target"`
	Elements []CodeElement `yaml:"elements"`
}

// CodeElement translates one source code, or every code starting with it.
type CodeElement struct {
	Code        string `yaml:"code"`
	Display     string `yaml:"display"`
	Match       string `yaml:"match"` // exact (default) | prefix
	Target      string `yaml:"target"`
	Equivalence string `yaml:"equivalence"` // ConceptMap equivalence: equivalent (default), wider, narrower...
}

// UnitRule normalises a unit to UCUM, optionally for one concept only.
type UnitRule struct {
	Concept    string `yaml:"concept"` // SNOMED CT id; empty for every concept
	From       string `yaml:"from"`    // the unit as the source writes it (code, or unit text when no code)
	To         string `yaml:"to"`      // UCUM
	Conversion string `yaml:"conversion"`
}

// EpisodeRules says how the source expresses care episodes.
type EpisodeRules struct {
	// Resource is "EpisodeOfCare" or "CarePlan" (episodes as CarePlan
	// categories), or empty when the source sends none.
	Resource          string   `yaml:"resource"`
	Categories        []Coding `yaml:"categories"` // CarePlan categories that mean an episode
	Inpatient         []Coding `yaml:"inpatient"`
	EarlyIntervention []Coding `yaml:"earlyIntervention"`
	Stabilised        []Coding `yaml:"stabilised"`
}

// Coding is a system and code.
type Coding struct {
	System string `yaml:"system"`
	Code   string `yaml:"code"`
}

// Conversions are the unit conversions a profile may name.
var conversions = map[string]func(float64) float64{
	"identity": func(v float64) float64 { return v },
	// HbA1c: DCCT % to IFCC mmol/mol, by the IFCC-DCCT master equation
	// (NGSP = 0.09148 x IFCC + 2.152, solved for IFCC).
	"hba1c-dcct-to-ifcc":          func(v float64) float64 { return (v - 2.152) / 0.09148 },
	"mg/dL-cholesterol-to-mmol/L": func(v float64) float64 { return v / 38.67 },
	"mg/dL-glucose-to-mmol/L":     func(v float64) float64 { return v / 18.016 },
}

// Problem is one thing wrong with a profile file, at a line.
type Problem struct {
	Line    int
	Message string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Message) }

// ProfileError lists every problem found in a profile file.
type ProfileError struct {
	File     string
	Problems []Problem
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p.Message)
	}
	return b.String()
}

// ParseProfile reads and checks a profile: YAML shape (unknown keys are
// errors), required fields, SNOMED CT ids with valid Verhoeff check digits,
// known conversions and no conflicting rows. Every problem is reported with
// its line.
func ParseProfile(file string, data []byte) (*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ProfileError{File: file, Problems: yamlProblems(err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ProfileError{File: file, Problems: yamlProblems(err)}
	}
	c := checker{root: &root}
	c.profile(&p)
	if len(c.problems) > 0 {
		slices.SortStableFunc(c.problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &ProfileError{File: file, Problems: c.problems}
	}
	return &p, nil
}

// yamlProblems turns a YAML error into Problems, one per line it names.
func yamlProblems(err error) []Problem {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Problem, len(te.Errors))
		for i, e := range te.Errors {
			out[i] = yamlProblem(errors.New(e))
		}
		return out
	}
	return []Problem{yamlProblem(err)}
}

// yamlProblem turns a YAML error ("yaml: line 3: ...") into a Problem.
func yamlProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return Problem{Line: line, Message: msg}
}

// checker collects a profile's semantic problems with their lines.
type checker struct {
	root     *yaml.Node
	problems []Problem
}

func (c *checker) fail(path []any, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: lineOf(c.root, path), Message: fmt.Sprintf(format, args...)})
}

// lineOf finds the line of the YAML node at path (mapping keys and sequence
// indexes); it falls back to the nearest ancestor found.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range path {
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

func (c *checker) profile(p *Profile) {
	if p.ID == "" {
		c.fail([]any{"profile"}, "profile: an id is required")
	}
	if p.Name == "" {
		c.fail([]any{"name"}, "name is required")
	}
	if p.Version == "" {
		c.fail([]any{"version"}, "version is required")
	}
	switch p.Side {
	case sharedcare.Primary, sharedcare.Secondary:
	default:
		c.fail([]any{"side"}, "side must be primary or secondary, not %q", p.Side)
	}
	for i, o := range p.Organisations {
		if !isODSCode(o.ODS) {
			c.fail([]any{"organisations", i, "ods"}, "%q is not an ODS organisation code", o.ODS)
		}
		switch o.Role {
		case "gp-practice", "trust", "team":
		default:
			c.fail([]any{"organisations", i, "role"}, "role must be gp-practice, trust or team, not %q", o.Role)
		}
	}
	if len(p.Identifiers.NHSNumber) == 0 {
		c.fail([]any{"identifiers"}, "identifiers.nhsNumber must list at least one system")
	}
	if len(p.Identifiers.ODS) == 0 {
		c.fail([]any{"identifiers"}, "identifiers.ods must list at least one system")
	}
	switch p.Identifiers.PatientReferences {
	case "literal", "nhs-number", "either":
	default:
		c.fail([]any{"identifiers", "patientReferences"}, "patientReferences must be literal, nhs-number or either, not %q", p.Identifiers.PatientReferences)
	}
	c.codes(&p.Codes)
	c.units(p.Units)
	c.episodes(&p.Episodes)
}

func (c *checker) codes(codes *Codes) {
	for i, m := range codes.Maps {
		at := func(more ...any) []any { return append([]any{"codes", "maps", i}, more...) }
		if m.Source == "" {
			c.fail(at("source"), "a code map needs a source system")
		}
		if slices.Contains(codes.PassThrough, m.Source) {
			c.fail(at("source"), "%s is both passed through and mapped", m.Source)
		}
		if m.Target != snomedSystem {
			c.fail(at("target"), "code maps must target SNOMED CT (%s), not %q", snomedSystem, m.Target)
		}
		seen := map[string]int{}
		for j, e := range m.Elements {
			el := func(field string) []any { return at("elements", j, field) }
			if e.Code == "" {
				c.fail(el("code"), "an element needs a code")
			}
			switch e.Match {
			case "", "exact", "prefix":
			default:
				c.fail(el("match"), "match must be exact or prefix, not %q", e.Match)
			}
			switch e.Equivalence {
			case "", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact":
			default:
				c.fail(el("equivalence"), "equivalence %q is not a ConceptMap equivalence that maps", e.Equivalence)
			}
			if err := CheckSNOMEDID(e.Target); err != nil {
				c.fail(el("target"), "target %q: %v", e.Target, err)
			}
			key := e.Match + "|" + e.Code
			if e.Match == "" {
				key = "exact|" + e.Code
			}
			if first, dup := seen[key]; dup {
				if m.Elements[first].Target != e.Target {
					c.fail(el("code"), "code %s conflicts with the element at line %d: it maps to %s there and to %s here",
						e.Code, lineOf(c.root, at("elements", first, "code")), m.Elements[first].Target, e.Target)
				} else {
					c.fail(el("code"), "code %s is listed twice (first at line %d)", e.Code, lineOf(c.root, at("elements", first, "code")))
				}
				continue
			}
			seen[key] = j
		}
	}
}

func (c *checker) units(units []UnitRule) {
	seen := map[string]int{}
	for i, u := range units {
		at := func(field string) []any { return []any{"units", i, field} }
		if u.From == "" || u.To == "" {
			c.fail(at("from"), "a unit rule needs from and to")
		}
		if u.Concept != "" {
			if err := CheckSNOMEDID(u.Concept); err != nil {
				c.fail(at("concept"), "concept %q: %v", u.Concept, err)
			}
		}
		conv := u.Conversion
		if conv == "" {
			conv = "identity"
		}
		if _, ok := conversions[conv]; !ok {
			c.fail(at("conversion"), "unknown conversion %q: use one of %s", u.Conversion, strings.Join(conversionNames(), ", "))
		}
		key := u.Concept + "|" + u.From
		if first, dup := seen[key]; dup {
			c.fail(at("from"), "unit %q for concept %q conflicts with the rule at line %d", u.From, u.Concept, lineOf(c.root, []any{"units", first, "from"}))
			continue
		}
		seen[key] = i
	}
}

func conversionNames() []string {
	var names []string
	for n := range conversions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *checker) episodes(e *EpisodeRules) {
	switch e.Resource {
	case "", "EpisodeOfCare":
	case "CarePlan":
		if len(e.Categories) == 0 {
			c.fail([]any{"episodes", "categories"}, "episodes from CarePlan need the categories that mean an episode")
		}
	default:
		c.fail([]any{"episodes", "resource"}, "episodes.resource must be EpisodeOfCare or CarePlan, not %q", e.Resource)
	}
}

// isODSCode reports whether s looks like an ODS organisation code: 3 to 6
// upper-case letters and digits.
func isODSCode(s string) bool {
	if len(s) < 3 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
