package sharedcare

import (
	"cmp"
	"slices"
)

// Assemble builds one person's record from the facts of every resource
// about them. The result does not depend on the order of facts: everything
// is sorted by its source.
func Assemble(nhsNumber string, facts []Facts) Record {
	r := Record{Person: Person{NHSNumber: nhsNumber}}
	for _, f := range facts {
		if p := f.Person; p != nil {
			r.Person.Sources = append(r.Person.Sources, p.Sources...)
			// The primary side's registration wins; a death from either side counts.
			if p.GPPractice != "" && (r.Person.GPPractice == "" || f.Side == Primary) {
				r.Person.GPPractice = p.GPPractice
			}
			r.Person.BirthDate = cmp.Or(r.Person.BirthDate, p.BirthDate)
			if p.Deceased {
				r.Person.Deceased = true
				r.Person.DeathDate = cmp.Or(r.Person.DeathDate, p.DeathDate)
			}
		}
		r.Register = append(r.Register, f.Register...)
		r.Episodes = append(r.Episodes, f.Episodes...)
		r.Referrals = append(r.Referrals, f.Referrals...)
		r.CarePlans = append(r.CarePlans, f.CarePlans...)
		r.Evidence = append(r.Evidence, f.Evidence...)
		r.Declines = append(r.Declines, f.Declines...)
		r.WorkItems = append(r.WorkItems, f.WorkItems...)
	}
	bySource := func(a, b SourceRef) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID), cmp.Compare(a.VersionID, b.VersionID))
	}
	slices.SortStableFunc(r.Person.Sources, bySource)
	slices.SortStableFunc(r.Register, func(a, b RegisterEntry) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), bySource(a.Source, b.Source), cmp.Compare(boolInt(a.Remission), boolInt(b.Remission)))
	})
	slices.SortStableFunc(r.Episodes, func(a, b Episode) int { return cmp.Or(cmp.Compare(a.Start, b.Start), bySource(a.Source, b.Source)) })
	slices.SortStableFunc(r.Referrals, func(a, b Referral) int {
		return cmp.Or(cmp.Compare(a.Authored, b.Authored), bySource(a.Source, b.Source))
	})
	slices.SortStableFunc(r.CarePlans, func(a, b CarePlan) int { return cmp.Or(cmp.Compare(a.Start, b.Start), bySource(a.Source, b.Source)) })
	slices.SortStableFunc(r.Evidence, func(a, b Evidence) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Component, b.Component), cmp.Compare(a.Concept, b.Concept), bySource(a.Source, b.Source))
	})
	slices.SortStableFunc(r.Declines, func(a, b Decline) int { return cmp.Or(cmp.Compare(a.Date, b.Date), bySource(a.Source, b.Source)) })
	slices.SortStableFunc(r.WorkItems, func(a, b WorkItem) int { return bySource(a.Source, b.Source) })
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
