package healthcheck

import (
	"strings"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// Outcome is how an open Task ends when it should no longer be open (rule
// 17): its new status, the business status that says why, and the
// evidence that satisfied it.
type Outcome struct {
	Status         string                 `json:"status"` // completed | cancelled
	BusinessStatus string                 `json:"businessStatus"`
	Evidence       []sharedcare.SourceRef `json:"evidence,omitempty"` // the Task's output, when completed
}

// Business statuses of closed Tasks.
const (
	// SatisfiedByEvidence: qualifying evidence arrived (rule 17).
	SatisfiedByEvidence = "satisfied-by-evidence"
	// NoLongerEligible: the person left the denominator (remission, death).
	NoLongerEligible = "no-longer-eligible"
	// DeclinedByPatient: the person declined the component in its window.
	DeclinedByPatient = "declined"
	// Superseded: the cycle, the responsible organisation or the evidence
	// changed, so a Task with another key replaces this one.
	Superseded = "superseded"
)

// Close says how the open Task with idempotency key ends under verdict v,
// or false when it stays open: because v still wants it, or because it is an
// abnormal-result Task of an eligible person, which only a clinician closes
// (rule 15). v must be the verdict of the person the Task is about.
func (v Verdict) Close(key string) (Outcome, bool) {
	for _, t := range v.Tasks {
		if t.Key == key {
			return Outcome{}, false
		}
	}
	if !v.Eligibility.Eligible {
		return Outcome{Status: "cancelled", BusinessStatus: NoLongerEligible}, true
	}
	kind, subject, ok := ParseKey(key)
	if !ok {
		return Outcome{}, false // not a key this engine made: leave it be
	}
	var cv ComponentVerdict
	for _, c := range v.Components {
		if string(c.Component) == subject {
			cv = c
		}
	}
	done := cv.Status == Done || cv.Status == DueSoon
	switch kind {
	case MissingComponent:
		switch {
		case done:
			return Outcome{Status: "completed", BusinessStatus: SatisfiedByEvidence, Evidence: cv.Evidence}, true
		case cv.Status == Declined:
			return Outcome{Status: "cancelled", BusinessStatus: DeclinedByPatient}, true
		}
	case WriteBack:
		if done && (cv.Performer == ByPrimary || cv.Performer == ByBoth) {
			return Outcome{Status: "completed", BusinessStatus: SatisfiedByEvidence, Evidence: cv.Evidence}, true
		}
	case AbnormalResult:
		return Outcome{}, false
	}
	return Outcome{Status: "cancelled", BusinessStatus: Superseded}, true
}

// ParseKey splits an idempotency key this engine made into the Task's kind
// and its component (missing-component, write-back) or measure
// (abnormal-result).
func ParseKey(key string) (TaskKind, string, bool) {
	parts := strings.Split(key, "|")
	if len(parts) < 4 {
		return "", "", false
	}
	switch k := TaskKind(parts[0]); k {
	case MissingComponent, WriteBack, AbnormalResult:
		return k, parts[2], true
	}
	return "", "", false
}
