package synth

// Scenario names something a synthetic person's data shows, for Stats.
// Component scenarios are "<component>/by-gp", "/by-trust", "/by-both"
// (done in the 12 months to AsOf by that side) and "/not-done".
type Scenario string

// scenario is a Scenario's index in the report order.
type scenario uint8

const (
	scSchizophrenia scenario = iota // in category order
	scSchizoaffective
	scBipolar
	scOtherPsychosis
	scPsychoticDepression
	scRemission
	scDeceased
	scGPOnly
	scEpisodeNew
	scEpisodeEarly
	scEpisodeInpatient
	scEpisodeStabilised
	scEpisodeNotStabilised
	scEpisodeDischarged
	scAllSix
	scDuplicate
	scConflict
	scOutOfWindow
	scBPPanel
	scBPSeparate
	scDeclineBP
	scBMIHigh
	scBMIAt25
	scBPHigh
	scBPAt140Or90
	scHbA1cHyperglycaemia
	scHbA1cDiabetes
	scHbA1cAt42Or48
	scFastingGlucose
	scCholesterolHigh
	scCholesterolAt6
	scSmoker
	scAuditCPositive
	scAuditCAt5
	scReferral
	scTask
	scCarePlan
	scDone     // then nComponents x 4: by-gp, by-trust, by-both, not-done
	nScenarios = scDone + scenario(nComponents)*4
)

var scenarioNames = [scDone]Scenario{
	"diagnosis/schizophrenia", "diagnosis/schizoaffective", "diagnosis/bipolar", "diagnosis/other-psychosis",
	"diagnosis/psychotic-depression", "remission", "deceased", "gp-only",
	"episode/new", "episode/early-intervention", "episode/inpatient", "episode/stabilised", "episode/not-stabilised",
	"episode/discharged", "all-six-done", "duplicate-both-sides", "conflict-same-day", "out-of-window-only",
	"blood-pressure/panel", "blood-pressure/separate", "decline/blood-pressure",
	"abnormal/bmi-25-or-more", "threshold/bmi-25.0", "abnormal/bp-140-90-or-more", "threshold/bp-140-or-90",
	"abnormal/hba1c-42-47", "abnormal/hba1c-48-or-more", "threshold/hba1c-42-or-48", "glucose/fasting",
	"abnormal/cholesterol-over-6", "threshold/cholesterol-6.0", "abnormal/current-smoker", "abnormal/audit-c-5-or-more",
	"threshold/audit-c-5", "gp-referral", "trust-task", "gp-care-plan",
}

var doneBy = [4]string{"by-gp", "by-trust", "by-both", "not-done"}

func (s scenario) name() Scenario {
	if s < scDone {
		return scenarioNames[s]
	}
	i := int(s - scDone)
	return Scenario(component(i/4).String() + "/" + doneBy[i%4])
}

// doneScenario is the scenario of component c done by gp, trust, both
// (gp && trust) or neither.
func doneScenario(c component, gp, trust bool) scenario {
	by := 3
	switch {
	case gp && trust:
		by = 2
	case trust:
		by = 1
	case gp:
		by = 0
	}
	return scDone + scenario(int(c)*4+by)
}

// Scenarios lists every scenario in report order.
func Scenarios() []Scenario {
	out := make([]Scenario, nScenarios)
	for i := range out {
		out[i] = scenario(i).name()
	}
	return out
}

// scenarioSet is the scenarios one person shows.
type scenarioSet [2]uint64

func (s *scenarioSet) add(x scenario) { s[x/64] |= 1 << (x % 64) }

func (s *scenarioSet) has(x scenario) bool { return s[x/64]&(1<<(x%64)) != 0 }
