package mappings

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

//go:embed codesets/*.yaml profiles/*.yaml
var shipped embed.FS

// CodeSets are the versioned SNOMED CT sets that decide what a concept
// means for the SMI register and the health check.
type CodeSets struct {
	Version    string                                     `yaml:"version"`
	Diagnoses  map[sharedcare.DiagnosisCategory][]Concept `yaml:"diagnoses"`
	Remission  []Concept                                  `yaml:"remission"`
	Components map[sharedcare.Component]ComponentCodes    `yaml:"components"`

	byConcept map[string]meaning
}

// Concept is a SNOMED CT concept in a code set.
type Concept struct {
	Code       string `yaml:"code"`
	Display    string `yaml:"display"`
	Unit       string `yaml:"unit"`       // UCUM unit of its values, for evidence
	NeedsValue bool   `yaml:"needsValue"` // evidence counts only with a numeric value
}

// ComponentCodes are the concepts that are evidence for, or a decline of,
// one health check component.
type ComponentCodes struct {
	Evidence   []Concept `yaml:"evidence"`
	Declined   []Concept `yaml:"declined"`
	Unsuitable []Concept `yaml:"unsuitable"`
}

// meaning is what one concept means.
type meaning struct {
	diagnosis  sharedcare.DiagnosisCategory
	remission  bool
	component  sharedcare.Component
	declined   bool
	unsuitable bool
	concept    Concept
}

// DefaultCodeSets returns the code sets shipped with CareBridge.
func DefaultCodeSets() (*CodeSets, error) {
	data, err := shipped.ReadFile("codesets/smi.yaml")
	if err != nil {
		return nil, err
	}
	return ParseCodeSets("codesets/smi.yaml", data)
}

// ParseCodeSets reads and checks a code set file: every id a well-formed
// SNOMED CT concept id, and no concept with two meanings.
func ParseCodeSets(file string, data []byte) (*CodeSets, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cs CodeSets
	if err := dec.Decode(&cs); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ProfileError{File: file, Problems: yamlProblems(err)}
	}
	if cs.Version == "" {
		return nil, &ProfileError{File: file, Problems: []Problem{{Line: 1, Message: "version is required"}}}
	}
	cs.byConcept = map[string]meaning{}
	var problems []Problem
	add := func(c Concept, m meaning) {
		if err := CheckSNOMEDID(c.Code); err != nil {
			problems = append(problems, Problem{Message: fmt.Sprintf("%s: %v", c.Code, err)})
			return
		}
		if _, dup := cs.byConcept[c.Code]; dup {
			problems = append(problems, Problem{Message: fmt.Sprintf("%s is in two code sets", c.Code)})
			return
		}
		m.concept = c
		cs.byConcept[c.Code] = m
	}
	for cat, list := range cs.Diagnoses {
		for _, c := range list {
			add(c, meaning{diagnosis: cat})
		}
	}
	for _, c := range cs.Remission {
		add(c, meaning{remission: true})
	}
	for comp, codes := range cs.Components {
		for _, c := range codes.Evidence {
			add(c, meaning{component: comp})
		}
		for _, c := range codes.Declined {
			add(c, meaning{component: comp, declined: true})
		}
		for _, c := range codes.Unsuitable {
			add(c, meaning{component: comp, declined: true, unsuitable: true})
		}
	}
	if len(problems) > 0 {
		return nil, &ProfileError{File: file, Problems: problems}
	}
	return &cs, nil
}

// lookup returns what a SNOMED CT concept means, if anything.
func (cs *CodeSets) lookup(code string) (meaning, bool) {
	m, ok := cs.byConcept[code]
	return m, ok
}
