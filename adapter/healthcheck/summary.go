package healthcheck

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// ScopeKind is the kind of organisation a Summary counts for.
type ScopeKind string

// The kinds of scope, in report order.
const (
	ScopePractice ScopeKind = "practice" // a GP practice (ODS code)
	ScopePCN      ScopeKind = "pcn"      // a primary care network (ODS code)
	ScopeTrust    ScopeKind = "trust"    // a mental health trust (ODS code)
)

// UnknownPractice is the code of the practice scope that counts the people
// whose verdict names no registered practice.
const UnknownPractice = "unknown"

// Scope is the organisation a Summary counts for.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	Code string    `json:"code"` // ODS code, or UnknownPractice
}

// rank orders scope kinds: practice, pcn, trust, then any other.
func (k ScopeKind) rank() int {
	switch k {
	case ScopePractice:
		return 0
	case ScopePCN:
		return 1
	case ScopeTrust:
		return 2
	}
	return 3
}

// ComponentTally counts the eligible people of a scope by the status of one
// component. Done+DueSoon is the component's numerator (rules 7, 12): a
// due-soon component is done, and only about to leave its window.
type ComponentTally struct {
	Component   sharedcare.Component `json:"component"`
	Done        int                  `json:"done"`
	DueSoon     int                  `json:"dueSoon"`
	Declined    int                  `json:"declined"`
	Outstanding int                  `json:"outstanding"`
	// ByTrustOnly counts the done or due-soon components that only a trust
	// did (Performer BySecondary): done by the trust, not yet in the GP
	// record, and so not yet in the national count (rule 18). They are
	// also counted in Done or DueSoon.
	ByTrustOnly int `json:"byTrustOnly"`
}

// MeasureCount is how many eligible people of a scope have an abnormal
// finding of one measure.
type MeasureCount struct {
	Measure string `json:"measure"`
	People  int    `json:"people"`
}

// ResponsibleTally counts the eligible people of a scope by who is
// responsible for their check (rule 13). Uncertain counts those whose
// responsibility was decided without episode data; they are also counted
// under their side.
type ResponsibleTally struct {
	Primary   int `json:"primary"`
	Secondary int `json:"secondary"`
	Uncertain int `json:"uncertain"`
}

// Summary counts the health check verdicts of the people of one
// organisation at one reference date, in one mode (rule 22).
//
// OnRegister counts everyone on the SMI register; every other count is of
// eligible people only (Eligible is the denominator: on the register, not
// in remission, alive, old enough). AllSixDone is the all-six numerator,
// taken from the verdicts (due-soon counts as done there too).
type Summary struct {
	Scope       Scope                                      `json:"scope"`
	AsOf        Date                                       `json:"asOf"`
	Mode        Mode                                       `json:"mode"`
	OnRegister  int                                        `json:"onRegister"`
	Eligible    int                                        `json:"eligible"`
	AllSixDone  int                                        `json:"allSixDone"`
	Components  [len(sharedcare.Components)]ComponentTally `json:"components"`         // in sharedcare.Components order
	Abnormal    []MeasureCount                             `json:"abnormal,omitempty"` // measures with people, sorted by measure
	Responsible ResponsibleTally                           `json:"responsible"`
}

// Period returns the first and last day of the period the summary reports
// on: in rolling mode the 12 months up to AsOf (rule 1); in QOF mode the
// QOF year, 1 April to 31 March, that contains AsOf.
func (s Summary) Period() (start, end Date) {
	if s.Mode == QOF {
		start = qofYearStart(s.AsOf)
		return start, start.AddYears(1).AddDays(-1)
	}
	return s.AsOf.AddMonths(-12).AddDays(1), s.AsOf
}

// Summariser counts verdicts into one Summary per organisation as they
// stream past. Its memory grows with the number of organisations, not of
// people. A Summariser is not safe for concurrent use.
type Summariser struct {
	asOf   Date
	mode   Mode
	pcns   map[string][]string // practice ODS code -> PCN codes, sorted, unique
	scopes map[Scope]*tally
}

// tally is a Summary being counted.
type tally struct {
	Summary
	abnormal map[string]int // measure -> people
}

// NewSummariser returns a Summariser for the verdicts at asOf in mode ("" is
// Rolling). pcns maps each primary care network's code to the ODS codes of
// its practices; a practice may belong to several. The map is copied.
func NewSummariser(asOf Date, mode Mode, pcns map[string][]string) *Summariser {
	s := &Summariser{asOf: asOf, mode: cmp.Or(mode, Rolling), pcns: map[string][]string{}, scopes: map[Scope]*tally{}}
	for pcn, practices := range pcns {
		for _, p := range practices {
			if p != "" && pcn != "" {
				s.pcns[p] = append(s.pcns[p], pcn)
			}
		}
	}
	for p, codes := range s.pcns {
		slices.Sort(codes)
		s.pcns[p] = slices.Compact(codes)
	}
	return s
}

// Add counts one person's verdict. A person on the register counts under
// their registered practice (UnknownPractice when the verdict names none),
// under every PCN that contains that practice, and under each trust the
// verdict names. People not on the register are not counted anywhere. A
// verdict at another reference date or in another mode is refused, and
// nothing of it is counted.
func (s *Summariser) Add(v Verdict) error {
	if v.AsOf.Compare(s.asOf) != 0 || v.Mode != s.mode {
		return fmt.Errorf("health check summary at %s (%s): a verdict at %s (%s) does not belong", s.asOf, s.mode, v.AsOf, v.Mode)
	}
	if !v.Eligibility.OnRegister {
		return nil
	}
	s.count(Scope{ScopePractice, cmp.Or(v.Practice, UnknownPractice)}, &v)
	if v.Practice != "" {
		for _, pcn := range s.pcns[v.Practice] {
			s.count(Scope{ScopePCN, pcn}, &v)
		}
	}
	for i, trust := range v.Trusts {
		if trust != "" && !slices.Contains(v.Trusts[:i], trust) {
			s.count(Scope{ScopeTrust, trust}, &v)
		}
	}
	return nil
}

// count adds v to the summary of scope.
func (s *Summariser) count(scope Scope, v *Verdict) {
	t := s.scopes[scope]
	if t == nil {
		t = &tally{Summary: Summary{Scope: scope, AsOf: s.asOf, Mode: s.mode}, abnormal: map[string]int{}}
		for i, c := range sharedcare.Components {
			t.Components[i].Component = c
		}
		s.scopes[scope] = t
	}
	t.OnRegister++
	if !v.Eligibility.Eligible {
		return
	}
	t.Eligible++
	if v.AllSixDone {
		t.AllSixDone++
	}
	for _, cv := range v.Components {
		i := slices.Index(sharedcare.Components[:], cv.Component)
		if i < 0 {
			continue
		}
		c := &t.Components[i]
		switch cv.Status {
		case Done:
			c.Done++
		case DueSoon:
			c.DueSoon++
		case Declined:
			c.Declined++
		case Outstanding:
			c.Outstanding++
		}
		if (cv.Status == Done || cv.Status == DueSoon) && cv.Performer == BySecondary {
			c.ByTrustOnly++
		}
	}
	switch v.Responsible.Side {
	case sharedcare.Primary:
		t.Responsible.Primary++
	case sharedcare.Secondary:
		t.Responsible.Secondary++
	}
	if v.Responsible.Uncertain {
		t.Responsible.Uncertain++
	}
	for i, f := range v.Abnormal {
		if !slices.ContainsFunc(v.Abnormal[:i], func(g Finding) bool { return g.Measure == f.Measure }) {
			t.abnormal[f.Measure]++ // a person counts once per measure
		}
	}
}

// Summaries returns the summaries counted so far, sorted by scope kind
// (practice, pcn, trust) then code. They are copies: adding more verdicts
// does not change them.
func (s *Summariser) Summaries() []Summary {
	out := make([]Summary, 0, len(s.scopes))
	for _, t := range s.scopes {
		sum := t.Summary
		sum.Abnormal = nil
		for m, n := range t.abnormal {
			sum.Abnormal = append(sum.Abnormal, MeasureCount{Measure: m, People: n})
		}
		slices.SortFunc(sum.Abnormal, func(a, b MeasureCount) int { return cmp.Compare(a.Measure, b.Measure) })
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b Summary) int {
		return cmp.Or(cmp.Compare(a.Scope.Kind.rank(), b.Scope.Kind.rank()), cmp.Compare(a.Scope.Code, b.Scope.Code))
	})
	return out
}
