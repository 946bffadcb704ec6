package healthcheck

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// Config is how the health check is counted. The zero values of the
// options are the defaults of the domain reference.
type Config struct {
	Mode            Mode           // Rolling (default when "") or QOF
	Rules           *Rules         // thresholds and concept groups; required
	CodeSetsVersion string         // the version of the code sets that classified the evidence
	Location        *time.Location // where clinical dates are calendar dates; Europe/London
	MinAge          int            // no minimum when 0 (rule 8)
	// DueSoonTasks raises missing-component Tasks for due-soon components
	// too, not only outstanding ones (rule 14).
	DueSoonTasks bool
	// NoWriteBack turns off the write-back Tasks to the GP practice for
	// components only the trust did (rule 18).
	NoWriteBack bool
}

// check refuses a configuration Evaluate cannot use.
func (c Config) check() error {
	switch {
	case c.Rules == nil:
		return errors.New("health check: no rules")
	case c.Location == nil:
		return errors.New("health check: no location for clinical dates")
	case c.Mode != "" && c.Mode != Rolling && c.Mode != QOF:
		return fmt.Errorf("health check: mode %q is not %q or %q", c.Mode, Rolling, QOF)
	}
	return nil
}

// item is one qualifying evidence item with its calendar date.
type item struct {
	sharedcare.Evidence
	day Date
}

// Evaluate decides the health check of the person whose record rec is, at
// the reference date asOf. It is deterministic: the same record, date and
// configuration give the same verdict.
func Evaluate(rec sharedcare.Record, asOf Date, cfg Config) (Verdict, error) {
	if err := cfg.check(); err != nil {
		return Verdict{}, err
	}
	if cfg.Mode == "" {
		cfg.Mode = Rolling
	}
	e := &evaluation{rec: rec, asOf: asOf, cfg: cfg, r: cfg.Rules}
	return e.run(), nil
}

type evaluation struct {
	rec   sharedcare.Record
	asOf  Date
	cfg   Config
	r     *Rules
	items map[sharedcare.Component][]item // qualifying, on or before asOf, newest first
	first Date                            // the earliest SMI diagnosis on or before asOf
}

func (e *evaluation) run() Verdict {
	v := Verdict{
		NHSNumber: e.rec.Person.NHSNumber, AsOf: e.asOf, Mode: e.cfg.Mode,
		Versions: Versions{CodeSets: e.cfg.CodeSetsVersion, Rules: e.r.Version},
	}
	v.Eligibility = e.eligibility()
	v.Practice, v.Trusts = e.rec.Person.GPPractice, e.trusts()
	e.collect()
	v.Responsible = e.responsibility()
	lowRiskLipids := e.cfg.Mode == QOF && !e.lipidHighRisk()
	v.AllSixDone = v.Eligibility.Eligible
	for _, c := range sharedcare.Components {
		cv := e.component(c, c == sharedcare.Lipids && lowRiskLipids, v.Eligibility.Eligible)
		if cv.Status != Done && cv.Status != DueSoon {
			v.AllSixDone = false
		}
		v.Components = append(v.Components, cv)
	}
	if v.Eligibility.OnRegister {
		v.Abnormal = e.findings(v.Components)
	}
	if v.Eligibility.Eligible {
		v.Tasks = e.tasks(v)
	}
	return v
}

// eligibility applies rule 8.
func (e *evaluation) eligibility() Eligibility {
	var el Eligibility
	var latestDiag, latestRem Date
	for _, r := range e.rec.Register {
		d, ok := clinicalDate(r.Date, e.cfg.Location)
		if !ok || d.After(e.asOf) {
			continue
		}
		switch {
		case r.Remission:
			latestRem = maxDate(latestRem, d)
		case r.Category != "":
			latestDiag = maxDate(latestDiag, d)
			if e.first.IsZero() || d.Before(e.first) {
				e.first = d
			}
		}
	}
	el.OnRegister = !latestDiag.IsZero()
	el.Since = latestDiag
	el.InRemission = el.OnRegister && latestRem.After(latestDiag)
	p := e.rec.Person
	death, hasDeath := clinicalDate(p.DeathDate, e.cfg.Location)
	if !hasDeath && len(p.DeathDate) >= 4 { // a partial date of death: its first day
		d, err := ParseDate(padDate(p.DeathDate))
		death, hasDeath = d, err == nil
	}
	switch {
	case !el.OnRegister:
		el.Reason = NotOnRegister
	case (p.Deceased && !hasDeath) || (hasDeath && !death.After(e.asOf)):
		el.Reason = Deceased
	case el.InRemission:
		el.Reason = InRemission
	case e.cfg.MinAge > 0 && !e.oldEnough():
		el.Reason = UnderMinAge
	default:
		el.Eligible = true
	}
	return el
}

// trusts returns the trusts caring for the person at asOf: those with an
// episode open at asOf and those that recorded an SMI diagnosis or
// remission on or before it, sorted.
func (e *evaluation) trusts() []string {
	var out []string
	for _, ep := range e.rec.Episodes {
		if ep.Trust != "" && e.open(ep) {
			out = append(out, ep.Trust)
		}
	}
	for _, r := range e.rec.Register {
		if d, ok := clinicalDate(r.Date, e.cfg.Location); ok && !d.After(e.asOf) && r.Side == sharedcare.Secondary && r.Org != "" {
			out = append(out, r.Org)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// open reports whether an episode is open at asOf.
func (e *evaluation) open(ep sharedcare.Episode) bool {
	start, ok := clinicalDate(ep.Start, e.cfg.Location)
	if !ok || start.After(e.asOf) {
		return false
	}
	end, ok := clinicalDate(ep.End, e.cfg.Location)
	return !ok || end.After(e.asOf)
}

// oldEnough reports whether the person has reached MinAge at asOf; a person
// without a birth date is taken to have.
func (e *evaluation) oldEnough() bool {
	b, err := ParseDate(e.rec.Person.BirthDate)
	if err != nil {
		return true
	}
	return !b.AddYears(e.cfg.MinAge).After(e.asOf)
}

// padDate completes a partial FHIR date (YYYY or YYYY-MM) to its first day.
func padDate(s string) string {
	switch len(s) {
	case 4:
		return s + "-01-01"
	case 7:
		return s + "-01"
	}
	return s
}

// collect gathers each component's qualifying evidence (rules 3 to 5).
func (e *evaluation) collect() {
	e.items = map[sharedcare.Component][]item{}
	for _, ev := range e.rec.Evidence {
		d, ok := clinicalDate(ev.Date, e.cfg.Location)
		if !ok || d.After(e.asOf) || !qualifies(ev) {
			continue
		}
		switch ev.Component {
		case sharedcare.BMI, sharedcare.Lipids, sharedcare.Glucose:
			if ev.Value == nil {
				continue
			}
		}
		e.items[ev.Component] = append(e.items[ev.Component], item{ev, d})
	}
	for c, its := range e.items {
		slices.SortFunc(its, func(a, b item) int {
			return cmp.Or(b.day.Compare(a.day), cmp.Compare(a.Concept, b.Concept), compareSource(a.Source, b.Source))
		})
		e.items[c] = its
	}
}

// qualifies applies rule 3: final, amended or corrected Observations and
// completed Procedures count.
func qualifies(ev sharedcare.Evidence) bool {
	switch ev.Source.Type {
	case "Procedure":
		return ev.Status == "completed"
	default:
		return ev.Status == "final" || ev.Status == "amended" || ev.Status == "corrected"
	}
}

// doneDays returns the days on which a component was done, newest first,
// with the items that did it. A blood pressure limb counts only with the
// other limb on the same day (rule 5).
func (e *evaluation) doneDays(c sharedcare.Component) [][]item {
	var days [][]item
	for _, it := range e.items[c] {
		if n := len(days); n > 0 && days[n-1][0].day == it.day {
			days[n-1] = append(days[n-1], it)
		} else {
			days = append(days, []item{it})
		}
	}
	if c != sharedcare.BloodPressure {
		return days
	}
	bp := e.r.BloodPressure
	return slices.DeleteFunc(days, func(day []item) bool {
		var sys, dia bool
		for _, it := range day {
			switch {
			case in(bp.Systolic, it.Concept):
				sys = true
			case in(bp.Diastolic, it.Concept):
				dia = true
			default:
				return false // a whole blood pressure
			}
		}
		return !(sys && dia)
	})
}

// windowStart is the earliest clinical date that counts at asOf (rules 1, 2).
func (e *evaluation) windowStart(lowRiskLipids bool) Date {
	if e.cfg.Mode == QOF {
		start := qofYearStart(e.asOf)
		if lowRiskLipids {
			start = start.AddYears(-1)
		}
		return start
	}
	return e.asOf.AddMonths(-12).AddDays(1)
}

// windowEnd is the last day evidence of day counts.
func (e *evaluation) windowEnd(day Date) Date {
	if e.cfg.Mode == QOF {
		return qofYearStart(e.asOf).AddYears(1).AddDays(-1)
	}
	return day.AddMonths(12).AddDays(-1)
}

// component decides one component's status (rules 1 to 7, 12).
func (e *evaluation) component(c sharedcare.Component, lowRiskLipids, eligible bool) ComponentVerdict {
	cv := ComponentVerdict{Component: c, WindowStart: e.windowStart(lowRiskLipids)}
	var sides [2]bool
	for _, day := range e.doneDays(c) {
		if day[0].day.Before(cv.WindowStart) {
			break
		}
		if cv.LastDone.IsZero() {
			cv.LastDone = day[0].day
		}
		for i, it := range day {
			cv.Evidence = append(cv.Evidence, it.Source)
			sides[boolInt(it.Side == sharedcare.Secondary)] = true
			for _, other := range day[:i] {
				if other.Concept == it.Concept && !sameValue(other.Value, it.Value) {
					cv.Conflict = true
				}
			}
		}
	}
	switch {
	case sides[0] && sides[1]:
		cv.Performer = ByBoth
	case sides[0]:
		cv.Performer = ByPrimary
	case sides[1]:
		cv.Performer = BySecondary
	}
	if !cv.LastDone.IsZero() {
		cv.WindowEnd = e.windowEnd(cv.LastDone)
	}
	switch {
	case !eligible:
		cv.Status = NotApplicable
	case !cv.LastDone.IsZero():
		cv.Status = Done
		if e.cfg.Mode == Rolling && cv.WindowEnd.Before(e.asOf.AddDays(e.r.DueSoonDays)) {
			cv.Status = DueSoon
		}
	case e.declined(c, cv.WindowStart):
		cv.Status = Declined
	default:
		cv.Status = Outstanding
	}
	return cv
}

// declined reports whether a decline or unsuitable code for c is dated in
// the window (rule 6).
func (e *evaluation) declined(c sharedcare.Component, start Date) bool {
	for _, d := range e.rec.Declines {
		day, ok := clinicalDate(d.Date, e.cfg.Location)
		if ok && d.Component == c && !day.Before(start) && !day.After(e.asOf) {
			return true
		}
	}
	return false
}

// lipidHighRisk applies the MH011 high-risk criteria the shared-care model
// can see (rule 2): the latest smoking status is current, or the latest BMI
// is at or above the BMI threshold. Medication and comorbidity criteria are
// not in the model yet.
func (e *evaluation) lipidHighRisk() bool {
	if s := e.items[sharedcare.Smoking]; len(s) > 0 && in(e.r.Smoking.Current, s[0].Concept) {
		return true
	}
	if b := e.items[sharedcare.BMI]; len(b) > 0 && *b[0].Value >= e.r.BMI.HighAtLeast {
		return true
	}
	return false
}

// responsibility applies rule 13 and the decision table of section 5.5.
func (e *evaluation) responsibility() Responsibility {
	gp := Responsibility{Org: e.rec.Person.GPPractice, Side: sharedcare.Primary}
	if len(e.rec.Episodes) == 0 {
		gp.Uncertain, gp.Reason = true, "no episode data"
		return gp
	}
	yearAgo := e.asOf.AddMonths(-12)
	var open []sharedcare.Episode
	for _, ep := range e.rec.Episodes {
		if e.open(ep) {
			open = append(open, ep)
		}
	}
	trust := func(ep sharedcare.Episode, reason string) Responsibility {
		return Responsibility{Org: ep.Trust, Side: sharedcare.Secondary, Reason: reason}
	}
	for _, ep := range open {
		if ep.Inpatient {
			return trust(ep, "inpatient")
		}
	}
	for _, ep := range open {
		if start, _ := clinicalDate(ep.Start, e.cfg.Location); start.After(yearAgo) {
			return trust(ep, "open episode under 12 months")
		}
	}
	for _, ep := range open {
		if !ep.Stabilised {
			return trust(ep, "open episode, not stabilised")
		}
	}
	if len(open) > 0 {
		gp.Reason = "open episode of 12 months or more, stabilised"
	} else {
		gp.Reason = "no open secondary care episode"
	}
	return gp
}

// latestValue returns the newest in-window item of c whose concept is in
// set and that has a value.
func (e *evaluation) latestValue(c sharedcare.Component, set []string, start Date) (item, bool) {
	for _, it := range e.items[c] {
		if it.day.Before(start) {
			break
		}
		if it.Value != nil && (set == nil || in(set, it.Concept)) {
			return it, true
		}
	}
	return item{}, false
}

// findings applies the follow-up thresholds (rules 10, 15) to the newest
// evidence in each component's window; for blood pressure, the lowest
// reading of the newest day.
func (e *evaluation) findings(cvs []ComponentVerdict) []Finding {
	start := map[sharedcare.Component]Date{}
	for _, cv := range cvs {
		start[cv.Component] = cv.WindowStart
	}
	var out []Finding
	add := func(measure string, it item) {
		f := Finding{Measure: measure, Date: it.day, Source: it.Source}
		if it.Value != nil {
			f.Value = *it.Value
		}
		out = append(out, f)
	}
	r := e.r
	if it, ok := e.latestValue(sharedcare.BMI, nil, start[sharedcare.BMI]); ok && *it.Value >= r.BMI.HighAtLeast {
		add(HighBMI, it)
	}
	if days := e.doneDays(sharedcare.BloodPressure); len(days) > 0 && !days[0][0].day.Before(start[sharedcare.BloodPressure]) {
		lowest := map[bool]*item{} // systolic? -> lowest reading
		for i := range days[0] {
			it := &days[0][i]
			sys, dia := in(r.BloodPressure.Systolic, it.Concept), in(r.BloodPressure.Diastolic, it.Concept)
			if it.Value == nil || (!sys && !dia) {
				continue
			}
			if l := lowest[sys]; l == nil || *it.Value < *l.Value {
				lowest[sys] = it
			}
		}
		if s := lowest[true]; s != nil && *s.Value >= r.BloodPressure.HighSystolicAtLeast {
			add(HighBloodPressure, *s)
		} else if d := lowest[false]; d != nil && *d.Value >= r.BloodPressure.HighDiastolicAtLeast {
			add(HighBloodPressure, *d)
		}
	}
	g := r.Glucose
	var diabetes, ndh *item
	if it, ok := e.latestValue(sharedcare.Glucose, g.HbA1c, start[sharedcare.Glucose]); ok {
		switch {
		case *it.Value >= g.HbA1cDiabetesAtLeast:
			diabetes = &it
		case *it.Value >= g.HbA1cHyperglycaemiaAtLeast:
			ndh = &it
		}
	}
	if it, ok := e.latestValue(sharedcare.Glucose, g.FastingGlucose, start[sharedcare.Glucose]); ok {
		switch {
		case *it.Value >= g.FastingDiabetesAtLeast && diabetes == nil:
			diabetes = &it
		case *it.Value >= g.FastingHyperglycaemiaAtLeast && *it.Value < g.FastingDiabetesAtLeast && ndh == nil:
			ndh = &it
		}
	}
	if diabetes != nil {
		add(PossibleDiabetes, *diabetes)
	} else if ndh != nil {
		add(NonDiabeticHyperglycaem, *ndh)
	}
	if it, ok := e.latestValue(sharedcare.Lipids, r.Lipids.TotalCholesterol, start[sharedcare.Lipids]); ok && *it.Value > r.Lipids.TotalCholesterolAbove {
		add(HighCholesterol, it)
	}
	if s := e.items[sharedcare.Smoking]; len(s) > 0 && !s[0].day.Before(start[sharedcare.Smoking]) && in(r.Smoking.Current, s[0].Concept) {
		add(CurrentSmoker, s[0])
	}
	if it, ok := e.latestValue(sharedcare.Alcohol, r.Alcohol.AuditC, start[sharedcare.Alcohol]); ok && *it.Value >= r.Alcohol.AuditCPositiveAtLeast {
		add(AuditCPositive, it)
	}
	return out
}

// tasks lists the Tasks that should be open (rules 14, 15, 18).
func (e *evaluation) tasks(v Verdict) []Task {
	nhs, gp := v.NHSNumber, e.rec.Person.GPPractice
	var out []Task
	for _, cv := range v.Components {
		missing := cv.Status == Outstanding || (cv.Status == DueSoon && e.cfg.DueSoonTasks)
		if missing && v.Responsible.Org != "" {
			cycle, end := e.cycle(cv)
			out = append(out, Task{
				Kind: MissingComponent, Component: cv.Component, Owner: v.Responsible.Org, CycleStart: cycle, PeriodEnd: end,
				Key: fmt.Sprintf("%s|%s|%s|%s|%s", MissingComponent, nhs, cv.Component, cycle, v.Responsible.Org),
			})
		}
		if (cv.Status == Done || cv.Status == DueSoon) && cv.Performer == BySecondary && !e.cfg.NoWriteBack && gp != "" {
			out = append(out, Task{
				Kind: WriteBack, Component: cv.Component, Owner: gp, CycleStart: cv.LastDone, PeriodEnd: cv.WindowEnd, Evidence: cv.Evidence,
				Key: fmt.Sprintf("%s|%s|%s|%s|%s", WriteBack, nhs, cv.Component, cv.LastDone, gp),
			})
		}
	}
	for _, f := range v.Abnormal {
		owner := cmp.Or(gp, v.Responsible.Org)
		if owner == "" {
			continue
		}
		cycle := qofYearStart(f.Date)
		out = append(out, Task{
			Kind: AbnormalResult, Measure: f.Measure, Owner: owner, CycleStart: cycle, Evidence: []sharedcare.SourceRef{f.Source},
			Key: fmt.Sprintf("%s|%s|%s|%s", AbnormalResult, nhs, f.Measure, cycle),
		})
	}
	return out
}

// cycle returns the start and last day of the cycle a missing component
// belongs to. In QOF mode it is the QOF year. In rolling mode cycles are
// 12 months long and anchored on the day the component left (or will
// leave) its window, or, if it was never done, on the day of the first SMI
// diagnosis: the cycle is the one of those that holds the reference date,
// so that it does not move from day to day, and a component missing for
// years gets one Task a year, each due within its year.
func (e *evaluation) cycle(cv ComponentVerdict) (Date, Date) {
	if e.cfg.Mode == QOF {
		start := qofYearStart(e.asOf)
		return start, start.AddYears(1).AddDays(-1)
	}
	start := e.first
	if !cv.WindowEnd.IsZero() {
		start = cv.WindowEnd.AddDays(1)
	} else if days := e.doneDays(cv.Component); len(days) > 0 {
		start = e.windowEnd(days[0][0].day).AddDays(1)
	}
	k := 0
	for !start.AddMonths(12 * (k + 1)).After(e.asOf) {
		k++
	}
	start = start.AddMonths(12 * k)
	return start, start.AddMonths(12).AddDays(-1)
}

func maxDate(a, b Date) Date {
	if b.After(a) {
		return b
	}
	return a
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sameValue(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func compareSource(a, b sharedcare.SourceRef) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID), cmp.Compare(a.VersionID, b.VersionID))
}
