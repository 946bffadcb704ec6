package healthcheck_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

const nhs = "9434765919"

// Concepts used below (mappings/codesets/smi.yaml, rules/default.yaml).
const (
	bmiCode    = "60621009"
	bpCode     = "75367002"  // a whole blood pressure
	sysCode    = "271649006" // systolic
	diaCode    = "271650006" // diastolic
	cholCode   = "1005671000000105"
	hba1cCode  = "999791000000106"
	fpgCode    = "1003141000000105"
	smoker     = "77176002"
	exSmoker   = "8517006"
	auditC     = "763256006"
	alcCode    = "160573003"
	schizoCode = "58214004"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func config(t *testing.T, mode healthcheck.Mode) healthcheck.Config {
	t.Helper()
	rules, err := healthcheck.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return healthcheck.Config{Mode: mode, Rules: rules, CodeSetsVersion: "pcd-test", Location: london}
}

func date(t *testing.T, s string) healthcheck.Date {
	t.Helper()
	d, err := healthcheck.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var seq int

// ev returns final evidence from primary care.
func ev(c sharedcare.Component, concept, when string, value ...float64) sharedcare.Evidence {
	seq++
	e := sharedcare.Evidence{Component: c, Concept: concept, Date: when, Status: "final", Side: sharedcare.Primary,
		Source: sharedcare.SourceRef{Type: "Observation", ID: fmt.Sprintf("o%d", seq), VersionID: 1}}
	if len(value) > 0 {
		e.Value = &value[0]
	}
	return e
}

func trust(e sharedcare.Evidence) sharedcare.Evidence { e.Side = sharedcare.Secondary; return e }

func status(e sharedcare.Evidence, s string) sharedcare.Evidence { e.Status = s; return e }

// person returns the record of an eligible person, diagnosed in 2015,
// registered with practice A12345, with a stabilised trust episode
// since 2019, and the evidence given.
func person(evidence ...sharedcare.Evidence) sharedcare.Record {
	return sharedcare.Record{
		Person:   sharedcare.Person{NHSNumber: nhs, GPPractice: "A12345", BirthDate: "1980-05-01"},
		Register: []sharedcare.RegisterEntry{{Category: sharedcare.Schizophrenia, Concept: schizoCode, Date: "2015-02-01", Side: sharedcare.Primary}},
		Episodes: []sharedcare.Episode{{Trust: "RX1", Start: "2019-01-01", Stabilised: true}},
		Evidence: evidence,
	}
}

// allSix returns evidence for every component on day.
func allSix(day string) []sharedcare.Evidence {
	return []sharedcare.Evidence{
		ev(sharedcare.BMI, bmiCode, day, 22), ev(sharedcare.BloodPressure, bpCode, day),
		ev(sharedcare.Lipids, cholCode, day, 4.2), ev(sharedcare.Glucose, hba1cCode, day, 36),
		ev(sharedcare.Alcohol, alcCode, day), ev(sharedcare.Smoking, exSmoker, day),
	}
}

func evaluate(t *testing.T, rec sharedcare.Record, asOf string, cfg healthcheck.Config) healthcheck.Verdict {
	t.Helper()
	v, err := healthcheck.Evaluate(rec, date(t, asOf), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func componentOf(v healthcheck.Verdict, c sharedcare.Component) healthcheck.ComponentVerdict {
	for _, cv := range v.Components {
		if cv.Component == c {
			return cv
		}
	}
	return healthcheck.ComponentVerdict{}
}

// TestComponentStatus covers rules 1 to 6 and 12 at their edges: the day
// before, on and after each window edge.
func TestComponentStatus(t *testing.T) {
	bmi := func(day string) sharedcare.Evidence { return ev(sharedcare.BMI, bmiCode, day, 22) }
	for _, tc := range []struct {
		name     string
		mode     healthcheck.Mode
		asOf     string
		c        sharedcare.Component
		evidence []sharedcare.Evidence
		declines []sharedcare.Decline
		want     healthcheck.Status
	}{
		// Rule 1, rolling: R - 12 months < D <= R.
		{"rolling: exactly 12 months before is outside", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2025-06-15")}, nil, healthcheck.Outstanding},
		{"rolling: the day after 12 months before is inside", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2025-06-16")}, nil, healthcheck.DueSoon},
		{"rolling: on the reference date", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-06-15")}, nil, healthcheck.Done},
		{"rolling: after the reference date does not count yet", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-06-16")}, nil, healthcheck.Outstanding},
		{"rolling: 29 February less 12 months is 28 February", healthcheck.Rolling, "2028-02-29", sharedcare.BMI, []sharedcare.Evidence{bmi("2027-02-28")}, nil, healthcheck.Outstanding},
		{"rolling: 1 March counts at 29 February", healthcheck.Rolling, "2028-02-29", sharedcare.BMI, []sharedcare.Evidence{bmi("2027-03-01")}, nil, healthcheck.DueSoon},
		{"rolling: a dateTime is a London calendar date (BST)", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2025-06-15T23:30:00Z")}, nil, healthcheck.DueSoon},
		{"rolling: a dateTime at UTC midnight in winter stays on its day", healthcheck.Rolling, "2027-01-10", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-01-10T00:30:00Z")}, nil, healthcheck.Outstanding},
		// Rule 12: due-soon when the component leaves the window within 30 days.
		{"due-soon: leaves in 30 days", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2025-07-15")}, nil, healthcheck.DueSoon},
		{"done: leaves in 31 days", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2025-07-16")}, nil, healthcheck.Done},
		// Rule 1, qof: 1 April to the reference date.
		{"qof: 31 March of the year before is outside", healthcheck.QOF, "2027-03-31", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-03-31")}, nil, healthcheck.Outstanding},
		{"qof: 1 April counts", healthcheck.QOF, "2027-03-31", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-04-01")}, nil, healthcheck.Done},
		{"qof: a new year starts on 1 April", healthcheck.QOF, "2026-04-01", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-03-31")}, nil, healthcheck.Outstanding},
		{"qof: 31 March 23:30 UTC is 1 April in London", healthcheck.QOF, "2026-04-01", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-03-31T23:30:00Z")}, nil, healthcheck.Done},
		{"qof: no due-soon", healthcheck.QOF, "2027-03-31", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-04-01")}, nil, healthcheck.Done},
		// Rule 2: lipids over 24 months in qof mode for low-risk people.
		{"qof lipids, low risk: 24 months", healthcheck.QOF, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2025-04-01", 4)}, nil, healthcheck.Done},
		{"qof lipids, low risk: not 24 months and a day", healthcheck.QOF, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2025-03-31", 4)}, nil, healthcheck.Outstanding},
		{"qof lipids, current smoker: 12 months", healthcheck.QOF, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2025-04-01", 4), ev(sharedcare.Smoking, smoker, "2026-05-01")}, nil, healthcheck.Outstanding},
		{"qof lipids, BMI 25: 12 months", healthcheck.QOF, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2025-04-01", 4), ev(sharedcare.BMI, bmiCode, "2026-05-01", 25)}, nil, healthcheck.Outstanding},
		{"qof lipids, BMI 24.9: 24 months", healthcheck.QOF, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2025-04-01", 4), ev(sharedcare.BMI, bmiCode, "2026-05-01", 24.9)}, nil, healthcheck.Done},
		{"rolling lipids: 12 months", healthcheck.Rolling, "2027-03-31", sharedcare.Lipids, []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2026-03-31", 4)}, nil, healthcheck.Outstanding},
		// Rule 3: what qualifies.
		{"preliminary does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{status(bmi("2026-01-01"), "preliminary")}, nil, healthcheck.Outstanding},
		{"entered-in-error does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{status(bmi("2026-01-01"), "entered-in-error")}, nil, healthcheck.Outstanding},
		{"amended counts", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{status(bmi("2026-01-01"), "amended")}, nil, healthcheck.Done},
		{"corrected counts", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{status(bmi("2026-01-01"), "corrected")}, nil, healthcheck.Done},
		{"a completed Procedure counts", healthcheck.Rolling, "2026-06-15", sharedcare.Alcohol, []sharedcare.Evidence{procedure(ev(sharedcare.Alcohol, alcCode, "2026-01-01"), "completed")}, nil, healthcheck.Done},
		{"an in-progress Procedure does not", healthcheck.Rolling, "2026-06-15", sharedcare.Alcohol, []sharedcare.Evidence{procedure(ev(sharedcare.Alcohol, alcCode, "2026-01-01"), "in-progress")}, nil, healthcheck.Outstanding},
		{"no clinical date does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("")}, nil, healthcheck.Outstanding},
		{"a partial date does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-01")}, nil, healthcheck.Outstanding},
		// Rules 4 and 5: values and blood pressure limbs.
		{"BMI without a value does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{ev(sharedcare.BMI, bmiCode, "2026-01-01")}, nil, healthcheck.Outstanding},
		{"a smoking status needs no value", healthcheck.Rolling, "2026-06-15", sharedcare.Smoking, []sharedcare.Evidence{ev(sharedcare.Smoking, exSmoker, "2026-01-01")}, nil, healthcheck.Done},
		{"systolic alone does not count", healthcheck.Rolling, "2026-06-15", sharedcare.BloodPressure, []sharedcare.Evidence{ev(sharedcare.BloodPressure, sysCode, "2026-01-01", 120)}, nil, healthcheck.Outstanding},
		{"systolic and diastolic on different days do not count", healthcheck.Rolling, "2026-06-15", sharedcare.BloodPressure, []sharedcare.Evidence{ev(sharedcare.BloodPressure, sysCode, "2026-01-01", 120), ev(sharedcare.BloodPressure, diaCode, "2026-01-02", 80)}, nil, healthcheck.Outstanding},
		{"systolic and diastolic on one day count", healthcheck.Rolling, "2026-06-15", sharedcare.BloodPressure, []sharedcare.Evidence{ev(sharedcare.BloodPressure, sysCode, "2026-01-01", 120), ev(sharedcare.BloodPressure, diaCode, "2026-01-01T15:00:00Z", 80)}, nil, healthcheck.Done},
		{"a whole blood pressure counts", healthcheck.Rolling, "2026-06-15", sharedcare.BloodPressure, []sharedcare.Evidence{ev(sharedcare.BloodPressure, bpCode, "2026-01-01")}, nil, healthcheck.Done},
		// Rule 6: declines.
		{"a decline in the window", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, nil, []sharedcare.Decline{{Component: sharedcare.BMI, Date: "2025-06-16"}}, healthcheck.Declined},
		{"a decline before the window", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, nil, []sharedcare.Decline{{Component: sharedcare.BMI, Date: "2025-06-15"}}, healthcheck.Outstanding},
		{"a decline after the reference date", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, nil, []sharedcare.Decline{{Component: sharedcare.BMI, Date: "2026-06-16"}}, healthcheck.Outstanding},
		{"a decline of another component", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, nil, []sharedcare.Decline{{Component: sharedcare.Lipids, Date: "2026-01-01"}}, healthcheck.Outstanding},
		{"evidence beats a decline", healthcheck.Rolling, "2026-06-15", sharedcare.BMI, []sharedcare.Evidence{bmi("2026-01-01")}, []sharedcare.Decline{{Component: sharedcare.BMI, Date: "2026-02-01"}}, healthcheck.Done},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := person(tc.evidence...)
			rec.Declines = tc.declines
			v := evaluate(t, rec, tc.asOf, config(t, tc.mode))
			if got := componentOf(v, tc.c); got.Status != tc.want {
				t.Errorf("%s = %s, want %s (verdict %+v)", tc.c, got.Status, tc.want, got)
			}
		})
	}
}

func procedure(e sharedcare.Evidence, s string) sharedcare.Evidence {
	e.Source.Type, e.Status = "Procedure", s
	return e
}

// TestEligibility covers rule 8.
func TestEligibility(t *testing.T) {
	diag := func(day string) sharedcare.RegisterEntry {
		return sharedcare.RegisterEntry{Category: sharedcare.Bipolar, Concept: "13746004", Date: day, Side: sharedcare.Secondary}
	}
	rem := func(day string) sharedcare.RegisterEntry {
		return sharedcare.RegisterEntry{Remission: true, Concept: "x", Date: day, Side: sharedcare.Secondary}
	}
	for _, tc := range []struct {
		name     string
		register []sharedcare.RegisterEntry
		birth    string
		death    string
		deceased bool
		minAge   int
		eligible bool
		reason   string
	}{
		{"no diagnosis", nil, "", "", false, 0, false, healthcheck.NotOnRegister},
		{"diagnosed on the reference date", []sharedcare.RegisterEntry{diag("2026-06-15")}, "", "", false, 0, true, ""},
		{"diagnosed the day after", []sharedcare.RegisterEntry{diag("2026-06-16")}, "", "", false, 0, false, healthcheck.NotOnRegister},
		{"remission after the diagnosis", []sharedcare.RegisterEntry{diag("2020-01-01"), rem("2024-01-01")}, "", "", false, 0, false, healthcheck.InRemission},
		{"remission on the diagnosis day is not later", []sharedcare.RegisterEntry{diag("2020-01-01"), rem("2020-01-01")}, "", "", false, 0, true, ""},
		{"a new diagnosis after remission ends it", []sharedcare.RegisterEntry{diag("2020-01-01"), rem("2024-01-01"), diag("2025-01-01")}, "", "", false, 0, true, ""},
		{"remission dated after the reference date does not count yet", []sharedcare.RegisterEntry{diag("2020-01-01"), rem("2026-06-16")}, "", "", false, 0, true, ""},
		{"died on the reference date", []sharedcare.RegisterEntry{diag("2020-01-01")}, "", "2026-06-15", false, 0, false, healthcheck.Deceased},
		{"died the day after", []sharedcare.RegisterEntry{diag("2020-01-01")}, "", "2026-06-16", false, 0, true, ""},
		{"deceased without a date", []sharedcare.RegisterEntry{diag("2020-01-01")}, "", "", true, 0, false, healthcheck.Deceased},
		{"18 on the reference date", []sharedcare.RegisterEntry{diag("2020-01-01")}, "2008-06-15", "", false, 18, true, ""},
		{"18 the day after", []sharedcare.RegisterEntry{diag("2020-01-01")}, "2008-06-16", "", false, 18, false, healthcheck.UnderMinAge},
		{"no age filter by default", []sharedcare.RegisterEntry{diag("2020-01-01")}, "2020-01-01", "", false, 0, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := person(allSix("2026-01-01")...)
			rec.Register, rec.Person.BirthDate, rec.Person.DeathDate, rec.Person.Deceased = tc.register, tc.birth, tc.death, tc.deceased
			cfg := config(t, healthcheck.Rolling)
			cfg.MinAge = tc.minAge
			v := evaluate(t, rec, "2026-06-15", cfg)
			if v.Eligibility.Eligible != tc.eligible || v.Eligibility.Reason != tc.reason {
				t.Errorf("eligibility = %+v, want eligible %v, reason %q", v.Eligibility, tc.eligible, tc.reason)
			}
			if !tc.eligible {
				if v.AllSixDone || len(v.Tasks) != 0 || componentOf(v, sharedcare.BMI).Status != healthcheck.NotApplicable {
					t.Errorf("an ineligible person has allSixDone %v, tasks %v, BMI %s", v.AllSixDone, v.Tasks, componentOf(v, sharedcare.BMI).Status)
				}
			}
		})
	}
}

// TestAllSixAndPerformer covers rules 7 and 18.
func TestAllSixAndPerformer(t *testing.T) {
	cfg := config(t, healthcheck.Rolling)
	v := evaluate(t, person(allSix("2026-01-01")...), "2026-06-15", cfg)
	if !v.AllSixDone {
		t.Errorf("all six done: %+v", v.Components)
	}
	if len(v.Tasks) != 0 {
		t.Errorf("tasks for a complete check: %+v", v.Tasks)
	}

	// One declined component: not all six.
	evs := allSix("2026-01-01")[:5]
	rec := person(evs...)
	rec.Declines = []sharedcare.Decline{{Component: sharedcare.Smoking, Date: "2026-01-01"}}
	if v := evaluate(t, rec, "2026-06-15", cfg); v.AllSixDone || componentOf(v, sharedcare.Smoking).Status != healthcheck.Declined {
		t.Errorf("with smoking declined: allSixDone %v, smoking %s", v.AllSixDone, componentOf(v, sharedcare.Smoking).Status)
	}

	// Who did it: the trust only, both, the GP only.
	gpBMI, trustBMI := ev(sharedcare.BMI, bmiCode, "2026-02-01", 22), trust(ev(sharedcare.BMI, bmiCode, "2026-03-01", 23))
	for _, tc := range []struct {
		name      string
		evidence  []sharedcare.Evidence
		performer healthcheck.Performer
		writeBack bool
	}{
		{"trust only", []sharedcare.Evidence{trustBMI}, healthcheck.BySecondary, true},
		{"both", []sharedcare.Evidence{gpBMI, trustBMI}, healthcheck.ByBoth, false},
		{"GP only", []sharedcare.Evidence{gpBMI}, healthcheck.ByPrimary, false},
	} {
		v := evaluate(t, person(tc.evidence...), "2026-06-15", cfg)
		cv := componentOf(v, sharedcare.BMI)
		if cv.Performer != tc.performer || cv.Status != healthcheck.Done {
			t.Errorf("%s: BMI %s by %s, want done by %s", tc.name, cv.Status, cv.Performer, tc.performer)
		}
		var wb []healthcheck.Task
		for _, task := range v.Tasks {
			if task.Kind == healthcheck.WriteBack {
				wb = append(wb, task)
			}
		}
		if got := len(wb) == 1 && wb[0].Owner == "A12345" && wb[0].Component == sharedcare.BMI; got != tc.writeBack || len(wb) > 1 {
			t.Errorf("%s: write-back tasks %+v, want one to A12345: %v", tc.name, wb, tc.writeBack)
		}
	}
	cfg.NoWriteBack = true
	for _, task := range evaluate(t, person(trustBMI), "2026-06-15", cfg).Tasks {
		if task.Kind == healthcheck.WriteBack {
			t.Errorf("write-back task with NoWriteBack: %+v", task)
		}
	}

	// Rule 10: same day, same concept, different values.
	v = evaluate(t, person(ev(sharedcare.BMI, bmiCode, "2026-02-01", 22), trust(ev(sharedcare.BMI, bmiCode, "2026-02-01", 24))), "2026-06-15", config(t, healthcheck.Rolling))
	if cv := componentOf(v, sharedcare.BMI); !cv.Conflict || len(cv.Evidence) != 2 {
		t.Errorf("conflicting same-day values: %+v", cv)
	}
}

// TestResponsibility covers rule 13 and the decision table of section 5.5.
func TestResponsibility(t *testing.T) {
	for _, tc := range []struct {
		name      string
		episodes  []sharedcare.Episode
		org       string
		uncertain bool
		trusts    []string // caring at the reference date
	}{
		{"no episode data", nil, "A12345", true, nil},
		{"inpatient", []sharedcare.Episode{{Trust: "RX1", Start: "2010-01-01", Stabilised: true, Inpatient: true}}, "RX1", false, []string{"RX1"}},
		{"open episode started 12 months less a day ago", []sharedcare.Episode{{Trust: "RX1", Start: "2025-06-16", Stabilised: true}}, "RX1", false, []string{"RX1"}},
		{"open episode started 12 months ago, stabilised", []sharedcare.Episode{{Trust: "RX1", Start: "2025-06-15", Stabilised: true}}, "A12345", false, []string{"RX1"}},
		{"open episode of years, not stabilised", []sharedcare.Episode{{Trust: "RX1", Start: "2020-01-01"}}, "RX1", false, []string{"RX1"}},
		{"discharged", []sharedcare.Episode{{Trust: "RX1", Start: "2025-01-01", End: "2026-06-15"}}, "A12345", false, nil},
		{"discharge after the reference date", []sharedcare.Episode{{Trust: "RX1", Start: "2025-01-01", End: "2026-06-16"}}, "RX1", false, []string{"RX1"}},
		{"episode starting after the reference date", []sharedcare.Episode{{Trust: "RX1", Start: "2026-06-16"}}, "A12345", false, nil},
		{"two trusts", []sharedcare.Episode{{Trust: "RX2", Start: "2020-01-01", Stabilised: true}, {Trust: "RX1", Start: "2021-01-01", Stabilised: true}}, "A12345", false, []string{"RX1", "RX2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := person()
			rec.Episodes = tc.episodes
			v := evaluate(t, rec, "2026-06-15", config(t, healthcheck.Rolling))
			if v.Responsible.Org != tc.org || v.Responsible.Uncertain != tc.uncertain {
				t.Errorf("responsible = %+v, want %s (uncertain %v)", v.Responsible, tc.org, tc.uncertain)
			}
			if !slices.Equal(v.Trusts, tc.trusts) || v.Practice != "A12345" {
				t.Errorf("practice %s, trusts %v; want A12345, %v", v.Practice, v.Trusts, tc.trusts)
			}
			for _, task := range v.Tasks {
				if task.Kind == healthcheck.MissingComponent && task.Owner != tc.org {
					t.Errorf("missing-component task owned by %s, want %s", task.Owner, tc.org)
				}
			}
		})
	}
}

// TestAbnormalFindings covers rule 15's thresholds at their edges.
func TestAbnormalFindings(t *testing.T) {
	bp := func(sys, dia float64) []sharedcare.Evidence {
		return []sharedcare.Evidence{ev(sharedcare.BloodPressure, sysCode, "2026-03-01", sys), ev(sharedcare.BloodPressure, diaCode, "2026-03-01", dia)}
	}
	for _, tc := range []struct {
		name     string
		evidence []sharedcare.Evidence
		want     string // the measure found; "" for none
	}{
		{"BMI 24.9", []sharedcare.Evidence{ev(sharedcare.BMI, bmiCode, "2026-03-01", 24.9)}, ""},
		{"BMI 25", []sharedcare.Evidence{ev(sharedcare.BMI, bmiCode, "2026-03-01", 25)}, healthcheck.HighBMI},
		{"the latest BMI counts", []sharedcare.Evidence{ev(sharedcare.BMI, bmiCode, "2026-02-01", 31), ev(sharedcare.BMI, bmiCode, "2026-03-01", 24)}, ""},
		{"BMI 31 outside the window", []sharedcare.Evidence{ev(sharedcare.BMI, bmiCode, "2025-06-15", 31)}, ""},
		{"BP 139/89", bp(139, 89), ""},
		{"BP 140/80", bp(140, 80), healthcheck.HighBloodPressure},
		{"BP 130/90", bp(130, 90), healthcheck.HighBloodPressure},
		{"BP: the lowest of the day", append(bp(150, 85), ev(sharedcare.BloodPressure, sysCode, "2026-03-01", 135)), ""},
		{"HbA1c 41", []sharedcare.Evidence{ev(sharedcare.Glucose, hba1cCode, "2026-03-01", 41)}, ""},
		{"HbA1c 42", []sharedcare.Evidence{ev(sharedcare.Glucose, hba1cCode, "2026-03-01", 42)}, healthcheck.NonDiabeticHyperglycaem},
		{"HbA1c 47", []sharedcare.Evidence{ev(sharedcare.Glucose, hba1cCode, "2026-03-01", 47)}, healthcheck.NonDiabeticHyperglycaem},
		{"HbA1c 48", []sharedcare.Evidence{ev(sharedcare.Glucose, hba1cCode, "2026-03-01", 48)}, healthcheck.PossibleDiabetes},
		{"FPG 5.4", []sharedcare.Evidence{ev(sharedcare.Glucose, fpgCode, "2026-03-01", 5.4)}, ""},
		{"FPG 5.5", []sharedcare.Evidence{ev(sharedcare.Glucose, fpgCode, "2026-03-01", 5.5)}, healthcheck.NonDiabeticHyperglycaem},
		{"FPG 6.9", []sharedcare.Evidence{ev(sharedcare.Glucose, fpgCode, "2026-03-01", 6.9)}, healthcheck.NonDiabeticHyperglycaem},
		{"FPG 7.0", []sharedcare.Evidence{ev(sharedcare.Glucose, fpgCode, "2026-03-01", 7.0)}, healthcheck.PossibleDiabetes},
		{"HbA1c 44 and FPG 7.0", []sharedcare.Evidence{ev(sharedcare.Glucose, hba1cCode, "2026-03-01", 44), ev(sharedcare.Glucose, fpgCode, "2026-02-01", 7.0)}, healthcheck.PossibleDiabetes},
		{"cholesterol 6.0", []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2026-03-01", 6.0)}, ""},
		{"cholesterol 6.1", []sharedcare.Evidence{ev(sharedcare.Lipids, cholCode, "2026-03-01", 6.1)}, healthcheck.HighCholesterol},
		{"current smoker", []sharedcare.Evidence{ev(sharedcare.Smoking, smoker, "2026-03-01")}, healthcheck.CurrentSmoker},
		{"stopped smoking since", []sharedcare.Evidence{ev(sharedcare.Smoking, smoker, "2026-01-01"), ev(sharedcare.Smoking, exSmoker, "2026-03-01")}, ""},
		{"AUDIT-C 4", []sharedcare.Evidence{ev(sharedcare.Alcohol, auditC, "2026-03-01", 4)}, ""},
		{"AUDIT-C 5", []sharedcare.Evidence{ev(sharedcare.Alcohol, auditC, "2026-03-01", 5)}, healthcheck.AuditCPositive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := evaluate(t, person(tc.evidence...), "2026-06-15", config(t, healthcheck.Rolling))
			var got []string
			for _, f := range v.Abnormal {
				got = append(got, f.Measure)
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if !cmp.Equal(got, want) {
				t.Errorf("findings %v, want %v", got, want)
			}
			var tasks []string
			for _, task := range v.Tasks {
				if task.Kind == healthcheck.AbnormalResult {
					tasks = append(tasks, task.Measure)
					if task.Owner != "A12345" || task.CycleStart != date(t, "2025-04-01") {
						t.Errorf("abnormal-result task %+v, want owner A12345, cycle 2025-04-01", task)
					}
				}
			}
			if !cmp.Equal(tasks, want) {
				t.Errorf("abnormal-result tasks %v, want %v", tasks, want)
			}
		})
	}
}

// TestTasksAreStable covers rules 14 and 23: the same inputs give the same
// verdict, and the Task keys do not move while the situation does not.
func TestTasksAreStable(t *testing.T) {
	cfg := config(t, healthcheck.Rolling)
	rec := person(allSix("2025-03-10")...) // everything left the window on 2026-03-10
	a := evaluate(t, rec, "2026-06-15", cfg)
	shuffled := rec
	shuffled.Evidence = slices.Clone(rec.Evidence)
	slices.Reverse(shuffled.Evidence)
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(evaluate(t, shuffled, "2026-06-15", cfg))
	if err != nil {
		t.Fatal(err)
	}
	if string(ja) != string(jb) {
		t.Fatalf("two evaluations differ:\n%s\n%s", ja, jb)
	}
	var keys []string
	for _, task := range a.Tasks {
		if task.Kind != healthcheck.MissingComponent || task.Owner != "A12345" || task.CycleStart != date(t, "2026-03-10") {
			t.Errorf("task %+v, want missing-component to A12345 from 2026-03-10", task)
		}
		keys = append(keys, task.Key)
	}
	if len(keys) != 6 {
		t.Fatalf("%d tasks, want one per component: %v", len(keys), keys)
	}
	later := evaluate(t, rec, "2026-08-01", cfg)
	var laterKeys []string
	for _, task := range later.Tasks {
		laterKeys = append(laterKeys, task.Key)
	}
	if !cmp.Equal(keys, laterKeys) {
		t.Errorf("keys moved with the reference date:\n%v\n%v", keys, laterKeys)
	}
	// Never done: cycles are the years from the first diagnosis
	// (2015-02-01); the one holding the reference date counts, from its
	// first day to its last.
	for _, tc := range []struct{ asOf, start, end string }{
		{"2026-01-31", "2025-02-01", "2026-01-31"},
		{"2026-02-01", "2026-02-01", "2027-01-31"},
		{"2026-06-15", "2026-02-01", "2027-01-31"},
		{"2015-02-01", "2015-02-01", "2016-01-31"},
	} {
		never := evaluate(t, person(), tc.asOf, cfg)
		if len(never.Tasks) != 6 || never.Tasks[0].CycleStart != date(t, tc.start) || never.Tasks[0].PeriodEnd != date(t, tc.end) {
			t.Errorf("never done, at %s: tasks %+v, want six from %s to %s", tc.asOf, never.Tasks, tc.start, tc.end)
		}
	}
	// Lapsed long ago: years from the day it left the window.
	lapsed := evaluate(t, person(ev(sharedcare.BMI, bmiCode, "2020-03-10", 22)), "2026-06-15", cfg)
	if task := lapsed.Tasks[0]; task.Component != sharedcare.BMI || task.CycleStart != date(t, "2026-03-10") || task.PeriodEnd != date(t, "2027-03-09") {
		t.Errorf("lapsed in 2021: first task %+v, want BMI from 2026-03-10 to 2027-03-09", task)
	}
	// Due-soon components raise Tasks only when configured.
	soon := person(allSix("2025-07-01")...)
	if v := evaluate(t, soon, "2026-06-15", cfg); len(v.Tasks) != 0 {
		t.Errorf("due-soon raised tasks by default: %+v", v.Tasks)
	}
	cfg.DueSoonTasks = true
	v := evaluate(t, soon, "2026-06-15", cfg)
	if len(v.Tasks) != 6 || v.Tasks[0].CycleStart != date(t, "2026-07-01") {
		t.Errorf("due-soon tasks %+v, want six from 2026-07-01, the day they leave the window", v.Tasks)
	}
	// In qof mode the cycle is the QOF year.
	q := evaluate(t, person(), "2026-06-15", config(t, healthcheck.QOF))
	if len(q.Tasks) != 6 || q.Tasks[0].CycleStart != date(t, "2026-04-01") || q.Tasks[0].PeriodEnd != date(t, "2027-03-31") {
		t.Errorf("qof tasks %+v, want six for 2026-04-01 to 2027-03-31", q.Tasks)
	}
	if a.Versions != (healthcheck.Versions{CodeSets: "pcd-test", Rules: cfg.Rules.Version}) || cfg.Rules.Version == "" {
		t.Errorf("versions = %+v", a.Versions)
	}
}

func TestRulesAreChecked(t *testing.T) {
	if _, err := healthcheck.ParseRules([]byte("version: x\nunknownKey: 1\n")); err == nil || !strings.Contains(err.Error(), "unknownKey") {
		t.Errorf("unknown key: err = %v", err)
	}
	if _, err := healthcheck.ParseRules([]byte("dueSoonDays: 30\n")); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("no version: err = %v", err)
	}
	if _, err := healthcheck.ParseRules([]byte("version: x\n")); err == nil || !strings.Contains(err.Error(), "bmi.highAtLeast") {
		t.Errorf("no thresholds: err = %v", err)
	}
	if _, err := healthcheck.Evaluate(person(), date(t, "2026-01-01"), healthcheck.Config{Location: london}); err == nil {
		t.Error("Evaluate without rules: no error")
	}
	cfg := config(t, "weekly")
	if _, err := healthcheck.Evaluate(person(), date(t, "2026-01-01"), cfg); err == nil {
		t.Error("Evaluate with an unknown mode: no error")
	}
}
