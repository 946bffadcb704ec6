package healthcheck_test

import (
	"testing"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// taskKey returns the key of the verdict's Task of kind about subject.
func taskKey(t *testing.T, v healthcheck.Verdict, kind healthcheck.TaskKind, subject string) string {
	t.Helper()
	for _, task := range v.Tasks {
		if task.Kind == kind && (string(task.Component) == subject || task.Measure == subject) {
			return task.Key
		}
	}
	t.Fatalf("no %s Task about %s in %+v", kind, subject, v.Tasks)
	return ""
}

// TestClose covers rule 17: how an open Task ends when the verdict no
// longer wants it.
func TestClose(t *testing.T) {
	cfg := config(t, healthcheck.Rolling)
	const asOf = "2026-06-15"
	bmi := ev(sharedcare.BMI, bmiCode, "2026-06-01", 22)
	trustBMI := trust(ev(sharedcare.BMI, bmiCode, "2026-05-01", 22))
	smokes := ev(sharedcare.Smoking, smoker, "2026-06-01")
	before := person(trustBMI, smokes)
	missingBMI := taskKey(t, evaluate(t, person(), asOf, cfg), healthcheck.MissingComponent, string(sharedcare.BMI))
	writeBack := taskKey(t, evaluate(t, before, asOf, cfg), healthcheck.WriteBack, string(sharedcare.BMI))
	smoking := taskKey(t, evaluate(t, before, asOf, cfg), healthcheck.AbnormalResult, healthcheck.CurrentSmoker)

	remission := person(trustBMI, smokes)
	remission.Register = append(remission.Register, sharedcare.RegisterEntry{Remission: true, Concept: "x", Date: "2026-01-01", Side: sharedcare.Secondary})
	otherGP := person()
	otherGP.Person.GPPractice = "B23456"
	otherGP.Episodes = nil // responsibility with the practice
	declined := person()
	declined.Declines = []sharedcare.Decline{{Component: sharedcare.BMI, Concept: "d", Date: "2026-06-01", Side: sharedcare.Primary}}

	for _, tc := range []struct {
		name   string
		rec    sharedcare.Record
		key    string
		want   healthcheck.Outcome
		closes bool
	}{
		{"missing component still missing stays open", person(), missingBMI, healthcheck.Outcome{}, false},
		{"missing component done by evidence completes", person(bmi), missingBMI,
			healthcheck.Outcome{Status: "completed", BusinessStatus: healthcheck.SatisfiedByEvidence, Evidence: []sharedcare.SourceRef{bmi.Source}}, true},
		{"missing component declined is cancelled", declined, missingBMI,
			healthcheck.Outcome{Status: "cancelled", BusinessStatus: healthcheck.DeclinedByPatient}, true},
		{"missing component now owned elsewhere is superseded", otherGP, missingBMI,
			healthcheck.Outcome{Status: "cancelled", BusinessStatus: healthcheck.Superseded}, true},
		{"write-back still only in the trust record stays open", before, writeBack, healthcheck.Outcome{}, false},
		{"write-back with the GP's own result completes", person(trustBMI, bmi, smokes), writeBack,
			healthcheck.Outcome{Status: "completed", BusinessStatus: healthcheck.SatisfiedByEvidence, Evidence: []sharedcare.SourceRef{bmi.Source, trustBMI.Source}}, true},
		{"abnormal result stays open after a normal result", person(ev(sharedcare.Smoking, exSmoker, "2026-06-10")), smoking, healthcheck.Outcome{}, false},
		{"remission cancels an abnormal-result Task", remission, smoking,
			healthcheck.Outcome{Status: "cancelled", BusinessStatus: healthcheck.NoLongerEligible}, true},
		{"remission cancels a write-back Task", remission, writeBack,
			healthcheck.Outcome{Status: "cancelled", BusinessStatus: healthcheck.NoLongerEligible}, true},
		{"a key another system made is left alone", person(bmi), "their-key|1|2|3", healthcheck.Outcome{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, closes := evaluate(t, tc.rec, asOf, cfg).Close(tc.key)
			if closes != tc.closes || got.Status != tc.want.Status || got.BusinessStatus != tc.want.BusinessStatus ||
				len(got.Evidence) != len(tc.want.Evidence) {
				t.Fatalf("Close(%s) = %+v, %v; want %+v, %v", tc.key, got, closes, tc.want, tc.closes)
			}
			for i := range got.Evidence {
				if got.Evidence[i] != tc.want.Evidence[i] {
					t.Errorf("evidence %d = %+v, want %+v", i, got.Evidence[i], tc.want.Evidence[i])
				}
			}
		})
	}
}
