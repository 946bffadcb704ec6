package checkfhir_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/checkfhir"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// tally is a ComponentTally of component i: done, due soon, declined,
// outstanding, by trust only.
func tally(i, done, dueSoon, declined, outstanding, byTrust int) healthcheck.ComponentTally {
	return healthcheck.ComponentTally{
		Component: sharedcare.Components[i], Done: done, DueSoon: dueSoon, Declined: declined, Outstanding: outstanding, ByTrustOnly: byTrust,
	}
}

// practiceSummary is a rolling summary of a practice with 12 people on the
// register, 9 of them eligible; every count differs from its neighbours so
// that a count in the wrong place shows in the golden file.
func practiceSummary() healthcheck.Summary {
	return healthcheck.Summary{
		Scope: healthcheck.Scope{Kind: healthcheck.ScopePractice, Code: "A81001"},
		AsOf:  healthcheck.NewDate(2025, 6, 30), Mode: healthcheck.Rolling,
		OnRegister: 12, Eligible: 9, AllSixDone: 3,
		Components: [6]healthcheck.ComponentTally{
			tally(0, 5, 1, 2, 1, 2), // bmi: 6/9
			tally(1, 8, 0, 0, 1, 0), // blood pressure: 8/9
			tally(2, 3, 1, 1, 4, 1), // lipids: 4/9
			tally(3, 4, 0, 3, 2, 0), // glucose: 4/9
			tally(4, 7, 2, 0, 0, 4), // alcohol: 9/9
			tally(5, 0, 0, 0, 9, 0), // smoking: 0/9
		},
		Abnormal: []healthcheck.MeasureCount{
			{Measure: healthcheck.CurrentSmoker, People: 2},
			{Measure: healthcheck.HighBMI, People: 4},
		},
		Responsible: healthcheck.ResponsibleTally{Primary: 7, Secondary: 2, Uncertain: 1},
	}
}

func TestMeasureReport(t *testing.T) {
	tests := []struct {
		name    string
		summary func() healthcheck.Summary
		opts    checkfhir.ReportOptions
	}{
		{
			name:    "measurereport-practice-rolling.json",
			summary: practiceSummary,
			opts: checkfhir.ReportOptions{
				RulesVersion: "2025.1", ID: "smi-A81001-2025-06-30",
				Date:  time.Date(2025, 7, 1, 9, 30, 15, 123, time.FixedZone("BST", 3600)),
				Names: map[string]string{"A81001": "Riverside & Hill Surgery", "U12345": "not this one"},
			},
		},
		{
			name: "measurereport-pcn-qof.json",
			summary: func() healthcheck.Summary {
				s := practiceSummary()
				s.Scope = healthcheck.Scope{Kind: healthcheck.ScopePCN, Code: "U12345"}
				s.Mode, s.AsOf = healthcheck.QOF, healthcheck.NewDate(2025, 1, 15)
				s.Abnormal = nil
				return s
			},
			opts: checkfhir.ReportOptions{RulesVersion: "2025.1"},
		},
		{
			name: "measurereport-trust-no-eligible-people.json",
			summary: func() healthcheck.Summary {
				return healthcheck.Summary{
					Scope: healthcheck.Scope{Kind: healthcheck.ScopeTrust, Code: "RX1"},
					AsOf:  healthcheck.NewDate(2025, 6, 30), Mode: healthcheck.Rolling, OnRegister: 2,
				}
			},
			opts: checkfhir.ReportOptions{RulesVersion: "2025.1", Names: map[string]string{"RX1": "North Mental Health NHS Foundation Trust"}},
		},
		{
			name: "measurereport-unknown-practice.json",
			summary: func() healthcheck.Summary {
				s := practiceSummary()
				s.Scope = healthcheck.Scope{Kind: healthcheck.ScopePractice, Code: healthcheck.UnknownPractice}
				return s
			},
			opts: checkfhir.ReportOptions{RulesVersion: "2025.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := checkfhir.MeasureReport(tc.summary(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			goldenFHIR(t, tc.name, out)
			again, err := checkfhir.MeasureReport(tc.summary(), tc.opts)
			if err != nil || string(again) != string(out) {
				t.Errorf("a second rendering differs (err %v)", err)
			}
		})
	}
}

func TestMeasureReportRefuses(t *testing.T) {
	ok := checkfhir.ReportOptions{RulesVersion: "2025.1"}
	tests := []struct {
		name string
		edit func(*healthcheck.Summary, *checkfhir.ReportOptions)
		want string // in the error
	}{
		{"no rules version", func(_ *healthcheck.Summary, o *checkfhir.ReportOptions) { o.RulesVersion = "" }, "rules version is missing"},
		{"a rules version with a bar", func(_ *healthcheck.Summary, o *checkfhir.ReportOptions) { o.RulesVersion = "1|2" }, "may not hold"},
		{"a rules version with a space", func(_ *healthcheck.Summary, o *checkfhir.ReportOptions) { o.RulesVersion = "1 2" }, "may not hold"},
		{"an id FHIR does not allow", func(_ *healthcheck.Summary, o *checkfhir.ReportOptions) { o.ID = "smi/A81001" }, "not a FHIR id"},
		{"an unknown scope kind", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) { s.Scope.Kind = "ccg" }, "scope kind"},
		{"a scope without a code", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) { s.Scope.Code = "" }, "no code"},
		{"no mode", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) { s.Mode = "" }, "mode"},
		{"no reference date", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) { s.AsOf = healthcheck.Date{} }, "reference date"},
		{"a measure with no place", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) {
			s.Abnormal = append(s.Abnormal, healthcheck.MeasureCount{Measure: "qrisk-high", People: 1})
		}, `"qrisk-high"`},
		{"components out of order", func(s *healthcheck.Summary, _ *checkfhir.ReportOptions) {
			s.Components[0], s.Components[1] = s.Components[1], s.Components[0]
		}, "component tally 0"},
		{"a name with a control character", func(_ *healthcheck.Summary, o *checkfhir.ReportOptions) {
			o.Names = map[string]string{"A81001": "Riverside\x00"}
		}, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, opts := practiceSummary(), ok
			tc.edit(&s, &opts)
			out, err := checkfhir.MeasureReport(s, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("MeasureReport = %q, %v; want an error saying %q", out, err, tc.want)
			}
			if out != nil {
				t.Errorf("MeasureReport returned %d bytes with its error", len(out))
			}
		})
	}
}
