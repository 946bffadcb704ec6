package healthcheck_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// verdictOf is a hand-built verdict at 2025-06-30, rolling, of an eligible
// person registered at practice, cared for by trusts. statuses has one
// letter per component, in sharedcare.Components order:
//
//	D done by the GP    T done by the trust    B done by both
//	d due soon, GP      t due soon, trust      b due soon, both
//	x declined          o outstanding          - not applicable
//
// AllSixDone is set as the engine sets it: every component done or due soon.
func verdictOf(t *testing.T, practice, statuses string, trusts ...string) healthcheck.Verdict {
	t.Helper()
	if len(statuses) != len(sharedcare.Components) {
		t.Fatalf("statuses %q: want one letter per component", statuses)
	}
	v := healthcheck.Verdict{
		NHSNumber: nhs, AsOf: reportDate, Mode: healthcheck.Rolling, Practice: practice, Trusts: trusts,
		Eligibility: healthcheck.Eligibility{OnRegister: true, Eligible: true},
		Responsible: healthcheck.Responsibility{Org: practice, Side: sharedcare.Primary},
		AllSixDone:  true,
	}
	for i, c := range sharedcare.Components {
		cv := healthcheck.ComponentVerdict{Component: c}
		switch statuses[i] {
		case 'D', 'T', 'B':
			cv.Status = healthcheck.Done
		case 'd', 't', 'b':
			cv.Status = healthcheck.DueSoon
		case 'x':
			cv.Status = healthcheck.Declined
		case 'o':
			cv.Status = healthcheck.Outstanding
		case '-':
			cv.Status = healthcheck.NotApplicable
		default:
			t.Fatalf("statuses %q: unknown letter %q", statuses, statuses[i])
		}
		switch statuses[i] {
		case 'D', 'd':
			cv.Performer = healthcheck.ByPrimary
		case 'T', 't':
			cv.Performer = healthcheck.BySecondary
		case 'B', 'b':
			cv.Performer = healthcheck.ByBoth
		}
		if cv.Status != healthcheck.Done && cv.Status != healthcheck.DueSoon {
			v.AllSixDone = false
		}
		v.Components = append(v.Components, cv)
	}
	return v
}

var reportDate = healthcheck.NewDate(2025, 6, 30)

// ineligible turns v into the verdict of a person on the register who is
// not eligible for the check (in remission): the engine marks the
// components not applicable, but the summary must not even look at them.
func ineligible(v healthcheck.Verdict) healthcheck.Verdict {
	v.Eligibility = healthcheck.Eligibility{OnRegister: true, InRemission: true, Reason: healthcheck.InRemission}
	return v
}

func withFindings(v healthcheck.Verdict, measures ...string) healthcheck.Verdict {
	for _, m := range measures {
		v.Abnormal = append(v.Abnormal, healthcheck.Finding{Measure: m, Date: reportDate})
	}
	return v
}

func responsible(v healthcheck.Verdict, side sharedcare.Side, uncertain bool) healthcheck.Verdict {
	v.Responsible = healthcheck.Responsibility{Org: "RX1", Side: side, Uncertain: uncertain}
	return v
}

// tl is a ComponentTally: done, due soon, declined, outstanding, by trust only.
func tl(done, dueSoon, declined, outstanding, byTrust int) healthcheck.ComponentTally {
	return healthcheck.ComponentTally{Done: done, DueSoon: dueSoon, Declined: declined, Outstanding: outstanding, ByTrustOnly: byTrust}
}

// summary is the Summary of scope with the given counts; components are in
// sharedcare.Components order (their names are filled in). Responsible
// counts default to every eligible person with the GP.
func summary(kind healthcheck.ScopeKind, code string, onRegister, eligible, allSix int, comps [6]healthcheck.ComponentTally, edit ...func(*healthcheck.Summary)) healthcheck.Summary {
	s := healthcheck.Summary{
		Scope: healthcheck.Scope{Kind: kind, Code: code}, AsOf: reportDate, Mode: healthcheck.Rolling,
		OnRegister: onRegister, Eligible: eligible, AllSixDone: allSix, Components: comps,
		Responsible: healthcheck.ResponsibleTally{Primary: eligible},
	}
	for i, c := range sharedcare.Components {
		s.Components[i].Component = c
	}
	for _, e := range edit {
		e(&s)
	}
	return s
}

// outstanding is the tally of a scope whose n eligible people have every
// component outstanding.
func outstanding(n int) [6]healthcheck.ComponentTally {
	var out [6]healthcheck.ComponentTally
	for i := range out {
		out[i] = tl(0, 0, 0, n, 0)
	}
	return out
}

func TestSummariser(t *testing.T) {
	tests := []struct {
		name     string
		pcns     map[string][]string
		verdicts []healthcheck.Verdict
		want     []healthcheck.Summary
	}{
		{
			name:     "no verdicts, no summaries",
			verdicts: nil,
			want:     []healthcheck.Summary{},
		},
		{
			name: "each status of each component lands in its own bucket",
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "A1", "DdxoDD"),
				verdictOf(t, "A1", "DDdxoD"),
				verdictOf(t, "A1", "DDDdxo"),
				verdictOf(t, "A1", "oDDDdx"),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 4, 4, 0, [6]healthcheck.ComponentTally{
				tl(3, 0, 0, 1, 0), // bmi: D D D o
				tl(3, 1, 0, 0, 0), // blood pressure: d D D D
				tl(2, 1, 1, 0, 0), // lipids: x d D D
				tl(1, 1, 1, 1, 0), // glucose: o x d D
				tl(1, 1, 1, 1, 0), // alcohol: D o x d
				tl(2, 0, 1, 1, 0), // smoking: D D o x
			})},
		},
		{
			name: "due soon counts towards all six; declined does not",
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "A1", "DDDDDD"),
				verdictOf(t, "A1", "ddDDDd"),
				verdictOf(t, "A1", "DDDDDx"),
				verdictOf(t, "A1", "DDDDDo"),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 4, 4, 2, [6]healthcheck.ComponentTally{
				tl(3, 1, 0, 0, 0),
				tl(3, 1, 0, 0, 0),
				tl(4, 0, 0, 0, 0),
				tl(4, 0, 0, 0, 0),
				tl(4, 0, 0, 0, 0),
				tl(1, 1, 1, 1, 0),
			})},
		},
		{
			name: "by trust only counts done and due-soon components only the trust did",
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "A1", "TtBbDx"),
				verdictOf(t, "A1", "TTTdoo"),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 2, 2, 0, [6]healthcheck.ComponentTally{
				tl(2, 0, 0, 0, 2), // T T
				tl(1, 1, 0, 0, 2), // t T
				tl(2, 0, 0, 0, 1), // B T
				tl(0, 2, 0, 0, 0), // b d
				tl(1, 0, 0, 1, 0), // D o
				tl(0, 0, 1, 1, 0), // x o
			})},
		},
		{
			name: "ineligible people on the register count in OnRegister only",
			verdicts: []healthcheck.Verdict{
				ineligible(withFindings(verdictOf(t, "A1", "DDDDDD"), healthcheck.HighBMI)),
				ineligible(verdictOf(t, "A1", "------")),
				verdictOf(t, "A1", "oooooo"),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 3, 1, 0, outstanding(1))},
		},
		{
			name: "people not on the register are not counted and make no scope",
			verdicts: func() []healthcheck.Verdict {
				v := verdictOf(t, "A1", "DDDDDD")
				v.Eligibility = healthcheck.Eligibility{Reason: healthcheck.NotOnRegister}
				v.Trusts = []string{"RX1"}
				return []healthcheck.Verdict{v}
			}(),
			want: []healthcheck.Summary{},
		},
		{
			name: "a person counts under their practice, each PCN holding it and each trust",
			pcns: map[string][]string{"U1": {"A1", "A2"}, "U2": {"A1"}, "U3": {"A3"}},
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "A1", "oooooo", "RX1", "RY2"),
				verdictOf(t, "A2", "oooooo", "RX1"),
				verdictOf(t, "A3", "oooooo"),
			},
			want: []healthcheck.Summary{
				summary(healthcheck.ScopePractice, "A1", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePractice, "A2", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePractice, "A3", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePCN, "U1", 2, 2, 0, outstanding(2)),
				summary(healthcheck.ScopePCN, "U2", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePCN, "U3", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopeTrust, "RX1", 2, 2, 0, outstanding(2)),
				summary(healthcheck.ScopeTrust, "RY2", 1, 1, 0, outstanding(1)),
			},
		},
		{
			name: "no registered practice counts under unknown, in no PCN, and still under its trust",
			pcns: map[string][]string{"U1": {"A1", ""}},
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "", "DDDDDD", "RX1"),
			},
			want: []healthcheck.Summary{
				summary(healthcheck.ScopePractice, healthcheck.UnknownPractice, 1, 1, 1, [6]healthcheck.ComponentTally{
					tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0),
				}),
				summary(healthcheck.ScopeTrust, "RX1", 1, 1, 1, [6]healthcheck.ComponentTally{
					tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0), tl(1, 0, 0, 0, 0),
				}),
			},
		},
		{
			name: "a trust named twice, a PCN listing a practice twice and an empty trust count once or not at all",
			pcns: map[string][]string{"U1": {"A1", "A1"}},
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "A1", "oooooo", "RX1", "", "RX1"),
			},
			want: []healthcheck.Summary{
				summary(healthcheck.ScopePractice, "A1", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePCN, "U1", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopeTrust, "RX1", 1, 1, 0, outstanding(1)),
			},
		},
		{
			name: "scopes sort by kind, practice before pcn before trust, then by code",
			pcns: map[string][]string{"B9": {"Z1"}, "A9": {"Z1"}},
			verdicts: []healthcheck.Verdict{
				verdictOf(t, "Z1", "oooooo", "C2", "A0"),
				verdictOf(t, "Y1", "oooooo"),
			},
			want: []healthcheck.Summary{
				summary(healthcheck.ScopePractice, "Y1", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePractice, "Z1", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePCN, "A9", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopePCN, "B9", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopeTrust, "A0", 1, 1, 0, outstanding(1)),
				summary(healthcheck.ScopeTrust, "C2", 1, 1, 0, outstanding(1)),
			},
		},
		{
			name: "abnormal findings count eligible people per measure, once each, sorted by measure",
			verdicts: []healthcheck.Verdict{
				withFindings(verdictOf(t, "A1", "oooooo"), healthcheck.HighBMI, healthcheck.CurrentSmoker, healthcheck.HighBMI),
				withFindings(verdictOf(t, "A1", "oooooo"), healthcheck.CurrentSmoker),
				withFindings(verdictOf(t, "A1", "oooooo"), healthcheck.CurrentSmoker, healthcheck.AuditCPositive),
				ineligible(withFindings(verdictOf(t, "A1", "oooooo"), healthcheck.PossibleDiabetes)),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 4, 3, 0, outstanding(3), func(s *healthcheck.Summary) {
				s.Abnormal = []healthcheck.MeasureCount{
					{Measure: healthcheck.AuditCPositive, People: 1},
					{Measure: healthcheck.HighBMI, People: 1},
					{Measure: healthcheck.CurrentSmoker, People: 3},
				}
			})},
		},
		{
			name: "components count by name, not by their place in the verdict",
			verdicts: func() []healthcheck.Verdict {
				v := verdictOf(t, "A1", "Dxoooo")
				v.Components[0], v.Components[1] = v.Components[1], v.Components[0]
				return []healthcheck.Verdict{v}
			}(),
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 1, 1, 0, outstanding(1), func(s *healthcheck.Summary) {
				s.Components[0] = healthcheck.ComponentTally{Component: sharedcare.BMI, Done: 1}
				s.Components[1] = healthcheck.ComponentTally{Component: sharedcare.BloodPressure, Declined: 1}
			})},
		},
		{
			name: "responsibility counts eligible people by side, and the uncertain ones besides",
			verdicts: []healthcheck.Verdict{
				responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Primary, true),
				responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Primary, false),
				responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Secondary, false),
				responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Secondary, false),
				responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Secondary, false),
				ineligible(responsible(verdictOf(t, "A1", "oooooo"), sharedcare.Secondary, true)),
			},
			want: []healthcheck.Summary{summary(healthcheck.ScopePractice, "A1", 6, 5, 0, outstanding(5), func(s *healthcheck.Summary) {
				s.Responsible = healthcheck.ResponsibleTally{Primary: 2, Secondary: 3, Uncertain: 1}
			})},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := healthcheck.NewSummariser(reportDate, healthcheck.Rolling, tc.pcns)
			for _, v := range tc.verdicts {
				if err := s.Add(v); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, s.Summaries()); diff != "" {
				t.Errorf("Summaries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummariserRefusesVerdictsOfAnotherDateOrMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*healthcheck.Verdict)
	}{
		{"another reference date", func(v *healthcheck.Verdict) { v.AsOf = reportDate.AddDays(1) }},
		{"another mode", func(v *healthcheck.Verdict) { v.Mode = healthcheck.QOF }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := healthcheck.NewSummariser(reportDate, "", nil) // "" is rolling
			v := verdictOf(t, "A1", "DDDDDD")
			tc.edit(&v)
			if err := s.Add(v); err == nil {
				t.Fatal("Add = nil, want an error")
			}
			if got := s.Summaries(); len(got) != 0 {
				t.Errorf("Summaries = %v, want none: a refused verdict counts nowhere", got)
			}
			if err := s.Add(verdictOf(t, "A1", "DDDDDD")); err != nil {
				t.Errorf("Add of a rolling verdict at the summary's date = %v, want nil", err)
			}
		})
	}
}

func TestSummariesAreSnapshots(t *testing.T) {
	pcns := map[string][]string{"U1": {"A1"}}
	s := healthcheck.NewSummariser(reportDate, healthcheck.Rolling, pcns)
	pcns["U1"] = append(pcns["U1"], "A2") // the summariser keeps its own copy
	pcns["U2"] = []string{"A1"}
	if err := s.Add(withFindings(verdictOf(t, "A1", "oooooo"), healthcheck.HighBMI)); err != nil {
		t.Fatal(err)
	}
	first := s.Summaries()
	first[0].Abnormal[0].People = 99
	for _, v := range []healthcheck.Verdict{
		withFindings(verdictOf(t, "A1", "DDDDDD"), healthcheck.HighBMI),
		verdictOf(t, "A2", "DDDDDD"),
	} {
		if err := s.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	if first[1].OnRegister != 1 {
		t.Errorf("an earlier snapshot changed: pcn OnRegister = %d, want 1", first[1].OnRegister)
	}
	var got []string
	for _, sum := range s.Summaries() {
		got = append(got, fmt.Sprintf("%s %s %d %v", sum.Scope.Kind, sum.Scope.Code, sum.OnRegister, sum.Abnormal))
	}
	want := []string{
		"practice A1 2 [{bmi-high 2}]",
		"practice A2 1 []",
		"pcn U1 2 [{bmi-high 2}]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
}

func TestSummariserMemoryIsPerOrganisationNotPerPerson(t *testing.T) {
	s := healthcheck.NewSummariser(reportDate, healthcheck.Rolling, map[string][]string{"U1": {"A1"}})
	v := withFindings(verdictOf(t, "A1", "DdxoTt", "RX1", "RY2"), healthcheck.HighBMI, healthcheck.CurrentSmoker)
	if err := s.Add(v); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := s.Add(v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Add of another person in known organisations allocates %v times, want 0", allocs)
	}
	if got := s.Summaries()[0].OnRegister; got != 1002 {
		t.Errorf("practice OnRegister = %d, want 1002", got)
	}
}

func TestSummaryPeriod(t *testing.T) {
	for _, tc := range []struct {
		mode       healthcheck.Mode
		asOf       string
		start, end string
	}{
		{healthcheck.Rolling, "2025-06-30", "2024-07-01", "2025-06-30"},
		{healthcheck.Rolling, "2024-02-29", "2023-03-01", "2024-02-29"},
		{healthcheck.Rolling, "2025-03-01", "2024-03-02", "2025-03-01"},
		{healthcheck.QOF, "2025-03-31", "2024-04-01", "2025-03-31"},
		{healthcheck.QOF, "2025-04-01", "2025-04-01", "2026-03-31"},
		{healthcheck.QOF, "2025-01-15", "2024-04-01", "2025-03-31"},
	} {
		t.Run(string(tc.mode)+" "+tc.asOf, func(t *testing.T) {
			start, end := healthcheck.Summary{AsOf: date(t, tc.asOf), Mode: tc.mode}.Period()
			if got, want := start.String()+".."+end.String(), tc.start+".."+tc.end; got != want {
				t.Errorf("Period = %s, want %s", got, want)
			}
		})
	}
}
