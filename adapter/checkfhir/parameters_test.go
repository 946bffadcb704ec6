package checkfhir_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	stdtime "time"

	"github.com/carebridge/carebridge/adapter/checkfhir"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

const nhs = "9434765919"

func obs(id string, version int64) sharedcare.SourceRef {
	return sharedcare.SourceRef{Type: "Observation", ID: id, VersionID: version, Profile: "trust-rx1"}
}

func d(y, m, day int) healthcheck.Date { return healthcheck.NewDate(y, stdtime.Month(m), day) }

// doneByTrust is the verdict of an eligible person whose BMI the trust
// measured on 3 May and the GP record does not have yet.
func doneByTrust() healthcheck.Verdict {
	return healthcheck.Verdict{
		NHSNumber: nhs, AsOf: d(2025, 6, 30), Mode: healthcheck.Rolling,
		Practice: "A81001", Trusts: []string{"RX1", "RY2"},
		Versions:    healthcheck.Versions{CodeSets: "pcd-2025.1", Rules: "2025.1"},
		Eligibility: healthcheck.Eligibility{OnRegister: true, Eligible: true, Since: d(2019, 2, 11)},
		Components: []healthcheck.ComponentVerdict{
			{Component: sharedcare.BMI, Status: healthcheck.Done, Performer: healthcheck.BySecondary, LastDone: d(2025, 5, 3),
				WindowStart: d(2024, 7, 1), WindowEnd: d(2026, 5, 2), Evidence: []sharedcare.SourceRef{obs("bmi-1", 2)}},
			{Component: sharedcare.BloodPressure, Status: healthcheck.Done, Performer: healthcheck.ByBoth, LastDone: d(2025, 4, 10),
				WindowStart: d(2024, 7, 1), WindowEnd: d(2026, 4, 9), Evidence: []sharedcare.SourceRef{obs("bp-2", 1), {Type: "Procedure", ID: "bp-gp", VersionID: 0}}},
			{Component: sharedcare.Lipids, Status: healthcheck.DueSoon, Performer: healthcheck.ByPrimary, LastDone: d(2024, 7, 20),
				WindowStart: d(2024, 7, 1), WindowEnd: d(2025, 7, 19), Evidence: []sharedcare.SourceRef{obs("chol-1", 3)}},
			{Component: sharedcare.Glucose, Status: healthcheck.Declined, WindowStart: d(2024, 7, 1)},
			{Component: sharedcare.Alcohol, Status: healthcheck.Outstanding, WindowStart: d(2024, 7, 1)},
			{Component: sharedcare.Smoking, Status: healthcheck.Done, Performer: healthcheck.ByPrimary, LastDone: d(2025, 1, 5),
				WindowStart: d(2024, 7, 1), WindowEnd: d(2026, 1, 4), Conflict: true, Evidence: []sharedcare.SourceRef{obs("smk-1", 1), obs("smk-2", 1)}},
		},
		Responsible: healthcheck.Responsibility{Org: "A81001", Side: sharedcare.Primary, Reason: "open episode of 12 months or more, stabilised"},
		Abnormal: []healthcheck.Finding{
			{Measure: healthcheck.HighBMI, Value: 31.25, Date: d(2025, 5, 3), Source: obs("bmi-1", 2)},
			{Measure: healthcheck.CurrentSmoker, Date: d(2025, 1, 5), Source: obs("smk-1", 1)},
		},
	}
}

func doneByTrustTasks() []checkfhir.TaskState {
	return []checkfhir.TaskState{
		{ID: "task-wb-1", Status: "requested", Kind: healthcheck.WriteBack, Key: "write-back|" + nhs + "|bmi|2025-05-03|A81001",
			Component: sharedcare.BMI, Owner: "A81001", Due: d(2026, 5, 2)},
		{ID: "task-mc-7", Status: "in-progress", BusinessStatus: "invited twice", Kind: healthcheck.MissingComponent,
			Component: sharedcare.Alcohol, Owner: "A81001", Due: d(2026, 2, 10)},
		{ID: "task-ab-3", Status: "accepted", Kind: healthcheck.AbnormalResult, Measure: healthcheck.HighBMI, Owner: "A81001"},
	}
}

// notOnRegister is the verdict of a person with no SMI diagnosis: little is
// known, and what is not known must be left out, not sent empty.
func notOnRegister() healthcheck.Verdict {
	v := healthcheck.Verdict{
		NHSNumber: nhs, AsOf: d(2025, 3, 31), Mode: healthcheck.QOF,
		Versions:    healthcheck.Versions{Rules: "2025.1"},
		Eligibility: healthcheck.Eligibility{Reason: healthcheck.NotOnRegister},
		Responsible: healthcheck.Responsibility{Side: sharedcare.Primary, Uncertain: true, Reason: "no episode data"},
	}
	for _, c := range sharedcare.Components {
		v.Components = append(v.Components, healthcheck.ComponentVerdict{Component: c, Status: healthcheck.NotApplicable, WindowStart: d(2024, 4, 1)})
	}
	return v
}

func TestHealthCheckParameters(t *testing.T) {
	tests := []struct {
		name    string
		verdict healthcheck.Verdict
		tasks   []checkfhir.TaskState
	}{
		{"parameters-done-by-trust.json", doneByTrust(), doneByTrustTasks()},
		{"parameters-not-on-register.json", notOnRegister(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := checkfhir.HealthCheckParameters(tc.verdict, tc.tasks)
			if err != nil {
				t.Fatal(err)
			}
			goldenFHIR(t, tc.name, out)
			var res struct {
				Parameter []map[string]json.RawMessage `json:"parameter"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
			checkOneValue(t, "Parameters", res.Parameter)
		})
	}
}

// checkOneValue checks that every parameter, at every depth, has exactly
// one value[x] or part (Parameters inv-1 and the choice rule), and a name.
func checkOneValue(t *testing.T, path string, params []map[string]json.RawMessage) {
	t.Helper()
	for i, p := range params {
		var name string
		if err := json.Unmarshal(p["name"], &name); err != nil || name == "" {
			t.Errorf("%s.parameter[%d] has no name", path, i)
		}
		var values []string
		for k := range p {
			if strings.HasPrefix(k, "value") || k == "part" || k == "resource" {
				values = append(values, k)
			}
		}
		if len(values) != 1 {
			t.Errorf("%s.parameter[%d] (%s) has %v, want exactly one value[x] or part", path, i, name, values)
		}
		if raw, ok := p["part"]; ok {
			var parts []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &parts); err != nil {
				t.Fatal(err)
			}
			checkOneValue(t, path+"."+name, parts)
		}
	}
}

func TestHealthCheckParametersRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*healthcheck.Verdict, []checkfhir.TaskState)
		want string
	}{
		{"no NHS number", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) { v.NHSNumber = "" }, "no NHS number"},
		{"no reference date", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) { v.AsOf = healthcheck.Date{} }, "no reference date"},
		{"evidence without an id", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) {
			v.Components[0].Evidence[0].ID = ""
		}, "component: evidence: source reference"},
		{"a finding without a source", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) {
			v.Abnormal[1].Source = sharedcare.SourceRef{}
		}, "abnormal: source"},
		{"a value that is not a number", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) {
			v.Abnormal[0].Value = math.NaN()
		}, "abnormal: value"},
		{"a status that is not a code", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) {
			v.Components[2].Status = "due soon "
		}, "component: status"},
		{"a task without an id", func(_ *healthcheck.Verdict, tasks []checkfhir.TaskState) { tasks[1].ID = "" }, "task id"},
		{"a task status that is not a code", func(_ *healthcheck.Verdict, tasks []checkfhir.TaskState) {
			tasks[0].Status = "in  progress"
		}, "task: status"},
		{"a reason with a control character", func(v *healthcheck.Verdict, _ []checkfhir.TaskState) {
			v.Responsible.Reason = "no\x07episode"
		}, "responsible: reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, tasks := doneByTrust(), doneByTrustTasks()
			tc.edit(&v, tasks)
			out, err := checkfhir.HealthCheckParameters(v, tasks)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("HealthCheckParameters = %q, %v; want an error saying %q", out, err, tc.want)
			}
			if out != nil {
				t.Errorf("HealthCheckParameters returned %d bytes with its error", len(out))
			}
		})
	}
}
