package checkfhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// CareBridge's canonical URLs for the health check report.
const (
	// MeasureURL is the canonical of the SMI physical health check measure;
	// a report cites it with the rules version: MeasureURL|version.
	MeasureURL = "https://carebridge.example/Measure/smi-physical-health-check"
	// CodeSystemComponent holds the report's group codes: the six
	// components (sharedcare.Component values), "all-six",
	// "abnormal-findings" and "responsibility".
	CodeSystemComponent = "https://carebridge.example/CodeSystem/smi-health-check-component"
	// CodeSystemPopulation holds the populations the base R4 measure-population
	// codes do not have: "due-soon", "declined", "outstanding",
	// "done-by-trust-only", "responsible-primary", "responsible-secondary",
	// "responsibility-uncertain".
	CodeSystemPopulation = "https://carebridge.example/CodeSystem/smi-health-check-population"
	// CodeSystemFinding holds the measures of abnormal findings
	// (healthcheck.Measures).
	CodeSystemFinding = "https://carebridge.example/CodeSystem/smi-health-check-finding"
	// ExtensionScope is a valueCode extension on the report: the kind of
	// organisation reported on (healthcheck.ScopeKind: practice, pcn, trust).
	ExtensionScope = "https://carebridge.example/StructureDefinition/report-scope"
	// ExtensionMode is a valueCode extension on the report: how windows were
	// counted (healthcheck.Mode: rolling, qof).
	ExtensionMode = "https://carebridge.example/StructureDefinition/health-check-mode"
	// ExtensionReferenceDate is a valueDate extension on the report: the
	// reference date the verdicts were reached at. In QOF mode it may fall
	// before the end of the period (in-year progress).
	ExtensionReferenceDate = "https://carebridge.example/StructureDefinition/reference-date"
)

// The base R4 codes the report uses.
const (
	systemMeasurePopulation   = "http://terminology.hl7.org/CodeSystem/measure-population"
	systemImprovementNotation = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
)

// unknownPracticeDisplay names the reporter of the people with no
// registered practice, unless ReportOptions.Names does.
const unknownPracticeDisplay = "No registered practice"

// ReportOptions are what a MeasureReport says besides its Summary.
type ReportOptions struct {
	// RulesVersion is the version of the health check rules the verdicts
	// were reached with (healthcheck.Rules.Version); required.
	RulesVersion string
	// ID is the resource id; none when "".
	ID string
	// Date is when the report was made; no date when zero.
	Date time.Time
	// Names maps ODS codes (and healthcheck.UnknownPractice) to the
	// reporter's display name; none when absent.
	Names map[string]string
}

// MeasureReport returns the JSON of a summary MeasureReport of s (domain
// reference rule 22): status complete, type summary, the reporter by ODS
// code, the reporting period (Summary.Period), then one group per
// component, one for all six, one for abnormal findings and one for
// responsibility.
//
// Each component group counts the initial population (on the register),
// the denominator (eligible) and the numerator (done, due soon included),
// then CareBridge's populations due-soon, declined, outstanding and
// done-by-trust-only; its measureScore is numerator over denominator, to 4
// decimal places, and is left out when the denominator is 0. The all-six
// group has the first three populations and a score. The abnormal-findings
// group has the denominator and one population per measure, in
// healthcheck.Measures order, 0 where none; the responsibility group the
// denominator and the people per responsible side, and the uncertain ones.
func MeasureReport(s healthcheck.Summary, opts ReportOptions) ([]byte, error) {
	out, err := measureReport(s, opts)
	if err != nil {
		return nil, fmt.Errorf("measure report of %s %q: %w", s.Scope.Kind, s.Scope.Code, err)
	}
	return out, nil
}

type measureReportJSON struct {
	ResourceType        string          `json:"resourceType"`
	ID                  string          `json:"id,omitempty"`
	Extension           []extension     `json:"extension"`
	Status              string          `json:"status"`
	Type                string          `json:"type"`
	Measure             string          `json:"measure"`
	Date                string          `json:"date,omitempty"`
	Reporter            reference       `json:"reporter"`
	Period              period          `json:"period"`
	ImprovementNotation codeableConcept `json:"improvementNotation"`
	Group               []measureGroup  `json:"group"`
}

type measureGroup struct {
	Code         codeableConcept     `json:"code"`
	Population   []measurePopulation `json:"population"`
	MeasureScore *quantity           `json:"measureScore,omitempty"`
}

type measurePopulation struct {
	Code  codeableConcept `json:"code"`
	Count int             `json:"count"`
}

func measureReport(s healthcheck.Summary, opts ReportOptions) ([]byte, error) {
	switch {
	case opts.RulesVersion == "":
		return nil, errors.New("the rules version is missing")
	case strings.ContainsAny(opts.RulesVersion, "| \t\r\n"):
		return nil, fmt.Errorf("rules version %q: a canonical version may not hold '|' or whitespace", opts.RulesVersion)
	case opts.ID != "" && !isID(opts.ID):
		return nil, fmt.Errorf("id %q is not a FHIR id", opts.ID)
	case s.Scope.Kind != healthcheck.ScopePractice && s.Scope.Kind != healthcheck.ScopePCN && s.Scope.Kind != healthcheck.ScopeTrust:
		return nil, fmt.Errorf("scope kind %q is not practice, pcn or trust", s.Scope.Kind)
	case s.Scope.Code == "":
		return nil, errors.New("the scope has no code")
	case s.Mode != healthcheck.Rolling && s.Mode != healthcheck.QOF:
		return nil, fmt.Errorf("mode %q is not %s or %s", s.Mode, healthcheck.Rolling, healthcheck.QOF)
	case s.AsOf.IsZero():
		return nil, errors.New("the reference date is missing")
	}
	if err := checkString("the scope code", s.Scope.Code); err != nil {
		return nil, err
	}
	abnormal, err := tallies(s)
	if err != nil {
		return nil, err
	}
	reporter, err := reporterOf(s.Scope, opts.Names)
	if err != nil {
		return nil, err
	}
	start, end := s.Period()
	mr := measureReportJSON{
		ResourceType: "MeasureReport",
		ID:           opts.ID,
		Extension: []extension{
			{URL: ExtensionScope, ValueCode: string(s.Scope.Kind)},
			{URL: ExtensionMode, ValueCode: string(s.Mode)},
			{URL: ExtensionReferenceDate, ValueDate: s.AsOf.String()},
		},
		Status:              "complete",
		Type:                "summary",
		Measure:             MeasureURL + "|" + opts.RulesVersion,
		Reporter:            reporter,
		Period:              period{Start: start.String(), End: end.String()},
		ImprovementNotation: concept(systemImprovementNotation, "increase", "Increased score indicates improvement"),
	}
	if !opts.Date.IsZero() {
		mr.Date = opts.Date.UTC().Format(time.RFC3339)
	}
	for i, ct := range s.Components {
		c := sharedcare.Components[i]
		num := ct.Done + ct.DueSoon
		mr.Group = append(mr.Group, measureGroup{
			Code: concept(CodeSystemComponent, string(c), componentDisplays[c]),
			Population: []measurePopulation{
				base("initial-population", s.OnRegister),
				base("denominator", s.Eligible),
				base("numerator", num),
				own("due-soon", ct.DueSoon),
				own("declined", ct.Declined),
				own("outstanding", ct.Outstanding),
				own("done-by-trust-only", ct.ByTrustOnly),
			},
			MeasureScore: score(num, s.Eligible),
		})
	}
	mr.Group = append(mr.Group, measureGroup{
		Code: concept(CodeSystemComponent, "all-six", "All six components"),
		Population: []measurePopulation{
			base("initial-population", s.OnRegister),
			base("denominator", s.Eligible),
			base("numerator", s.AllSixDone),
		},
		MeasureScore: score(s.AllSixDone, s.Eligible),
	})
	findings := measureGroup{
		Code:       concept(CodeSystemComponent, "abnormal-findings", "People with an abnormal finding, per measure"),
		Population: []measurePopulation{base("denominator", s.Eligible)},
	}
	for i, m := range healthcheck.Measures {
		findings.Population = append(findings.Population, measurePopulation{
			Code: concept(CodeSystemFinding, m, measureDisplays[m]), Count: abnormal[i],
		})
	}
	mr.Group = append(mr.Group, findings, measureGroup{
		Code: concept(CodeSystemComponent, "responsibility", "Who is responsible for the check"),
		Population: []measurePopulation{
			base("denominator", s.Eligible),
			own("responsible-primary", s.Responsible.Primary),
			own("responsible-secondary", s.Responsible.Secondary),
			own("responsibility-uncertain", s.Responsible.Uncertain),
		},
	})
	return encode(mr)
}

// reporterOf returns the reporter of a scope: the organisation by ODS code,
// or for the people with no registered practice, a display alone.
func reporterOf(scope healthcheck.Scope, names map[string]string) (reference, error) {
	name := names[scope.Code]
	if err := checkString("the name of "+scope.Code, name); err != nil {
		return reference{}, err
	}
	if scope.Kind == healthcheck.ScopePractice && scope.Code == healthcheck.UnknownPractice {
		if name == "" {
			name = unknownPracticeDisplay
		}
		return reference{Display: name}, nil
	}
	return reference{Type: "Organization", Identifier: &identifier{System: SystemODS, Value: scope.Code}, Display: name}, nil
}

// populationDisplays name the population codes.
var populationDisplays = map[string]string{
	"initial-population":       "Initial Population",
	"denominator":              "Denominator",
	"numerator":                "Numerator",
	"due-soon":                 "Done, and leaving the window soon",
	"declined":                 "Declined or unsuitable",
	"outstanding":              "Outstanding",
	"done-by-trust-only":       "Done by the trust only, not yet in the GP record",
	"responsible-primary":      "Responsibility with the GP practice",
	"responsible-secondary":    "Responsibility with the trust",
	"responsibility-uncertain": "Responsibility decided without episode data",
}

// base is a population of the base R4 measure-population code system.
func base(code string, n int) measurePopulation {
	return measurePopulation{Code: concept(systemMeasurePopulation, code, populationDisplays[code]), Count: n}
}

// own is a population of CareBridge's population code system.
func own(code string, n int) measurePopulation {
	return measurePopulation{Code: concept(CodeSystemPopulation, code, populationDisplays[code]), Count: n}
}

// score returns num/den as a quantity with exactly 4 decimal places,
// rounded half up, or nil when den is not above 0.
func score(num, den int) *quantity {
	if den <= 0 {
		return nil
	}
	n, d := int64(num), int64(den)
	q := (2*n*10000 + d) / (2 * d) // round(n/d × 10000), half up
	return &quantity{Value: json.Number(fmt.Sprintf("%d.%04d", q/10000, q%10000))}
}
