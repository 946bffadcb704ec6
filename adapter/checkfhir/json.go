package checkfhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// Identifier systems.
const (
	// SystemODS is the NHS ODS organisation code system. GP practices,
	// primary care networks (U codes) and trusts all have ODS codes.
	SystemODS = "https://fhir.nhs.uk/Id/ods-organization-code"
	// SystemNHSNumber is the NHS number system.
	SystemNHSNumber = "https://fhir.nhs.uk/Id/nhs-number"
)

// The JSON types below are the few FHIR data types the renderings use, with
// their elements in FHIR's order. Optional elements are omitted when empty,
// as FHIR JSON requires.

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
}

func concept(system, code, display string) codeableConcept {
	return codeableConcept{Coding: []coding{{System: system, Code: code, Display: display}}}
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type quantity struct {
	Value json.Number `json:"value"`
}

type extension struct {
	URL       string `json:"url"`
	ValueCode string `json:"valueCode,omitempty"`
	ValueDate string `json:"valueDate,omitempty"`
}

// encode returns the compact JSON of v, without HTML escaping.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sourceReference returns the versioned literal reference of a source:
// Type/id/_history/version, or Type/id when the version is not known.
func sourceReference(r sharedcare.SourceRef) (string, error) {
	if r.Type == "" || r.ID == "" {
		return "", fmt.Errorf("source reference %q/%q: type and id are required", r.Type, r.ID)
	}
	if r.VersionID <= 0 {
		return r.Type + "/" + r.ID, nil
	}
	return r.Type + "/" + r.ID + "/_history/" + strconv.FormatInt(r.VersionID, 10), nil
}

// checkCode refuses what FHIR does not allow as a code: an empty string, and
// leading, trailing or repeated whitespace.
func checkCode(what, s string) error {
	if s == "" || strings.TrimSpace(s) != s || strings.Contains(s, "  ") || strings.ContainsAny(s, "\t\r\n") {
		return fmt.Errorf("%s %q is not a FHIR code", what, s)
	}
	return nil
}

// checkString refuses control characters, which FHIR strings may not hold
// (tab, carriage return and line feed aside).
func checkString(what, s string) error {
	for _, r := range s {
		if r < ' ' && r != '\t' && r != '\r' && r != '\n' {
			return fmt.Errorf("%s holds the control character U+%04X", what, r)
		}
	}
	return nil
}

// isID reports whether s is a FHIR id: 1 to 64 of [A-Za-z0-9-.].
func isID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// componentDisplays name the six components in reports.
var componentDisplays = map[sharedcare.Component]string{
	sharedcare.BMI:           "Body mass index",
	sharedcare.BloodPressure: "Blood pressure",
	sharedcare.Lipids:        "Lipid profile",
	sharedcare.Glucose:       "Blood glucose or HbA1c",
	sharedcare.Alcohol:       "Alcohol consumption",
	sharedcare.Smoking:       "Smoking status",
}

// measureDisplays name the measures of abnormal findings in reports.
var measureDisplays = map[string]string{
	healthcheck.HighBMI:                 "BMI at or above the follow-up threshold",
	healthcheck.HighBloodPressure:       "Blood pressure at or above the follow-up threshold",
	healthcheck.NonDiabeticHyperglycaem: "Non-diabetic hyperglycaemia",
	healthcheck.PossibleDiabetes:        "Possible diabetes",
	healthcheck.HighCholesterol:         "Total cholesterol above the follow-up threshold",
	healthcheck.CurrentSmoker:           "Current smoker",
	healthcheck.AuditCPositive:          "Positive AUDIT-C screen",
}

// tallies checks that a summary's component tallies are in
// sharedcare.Components order (a tally without a component name is taken
// to be in its place) and returns its abnormal counts in
// healthcheck.Measures order; a measure without a place is refused.
func tallies(s healthcheck.Summary) ([len(healthcheck.Measures)]int, error) {
	var counts [len(healthcheck.Measures)]int
	for i, ct := range s.Components {
		if ct.Component != "" && ct.Component != sharedcare.Components[i] {
			return counts, fmt.Errorf("component tally %d is %q, want %q", i, ct.Component, sharedcare.Components[i])
		}
	}
	for _, m := range s.Abnormal {
		i := slices.Index(healthcheck.Measures[:], m.Measure)
		if i < 0 {
			return counts, fmt.Errorf("abnormal finding measure %q is not one of healthcheck.Measures", m.Measure)
		}
		counts[i] += m.People
	}
	return counts, nil
}
