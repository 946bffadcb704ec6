package mappings

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/fhir"
)

const ucumSystem = "http://unitsofmeasure.org"

// Resolver answers what one resource cannot say by itself: who a literal
// reference points at. The gateway resolves against the store, inside the
// write transaction.
type Resolver interface {
	// PatientNHSNumber returns the verified NHS number of Patient/id.
	PatientNHSNumber(ctx context.Context, id string) (string, bool, error)
	// OrganizationODS returns the ODS code of Organization/id.
	OrganizationODS(ctx context.Context, id string) (string, bool, error)
}

// Mapper maps one source's resources with its profile and the code sets.
type Mapper struct {
	profile *Profile
	codes   *CodeSets
	pass    map[string]bool
	maps    map[string]*CodeMap // by source system
	nhs     map[string]bool
	ods     map[string]bool
}

// NewMapper prepares a profile for mapping.
func NewMapper(p *Profile, cs *CodeSets) *Mapper {
	m := &Mapper{profile: p, codes: cs, pass: map[string]bool{}, maps: map[string]*CodeMap{}, nhs: map[string]bool{}, ods: map[string]bool{}}
	for _, s := range p.Codes.PassThrough {
		m.pass[s] = true
	}
	for i := range p.Codes.Maps {
		m.maps[p.Codes.Maps[i].Source] = &p.Codes.Maps[i]
	}
	for _, s := range p.Identifiers.NHSNumber {
		m.nhs[s] = true
	}
	for _, s := range p.Identifiers.ODS {
		m.ods[s] = true
	}
	return m
}

// Profile returns the mapper's profile.
func (m *Mapper) Profile() *Profile { return m.profile }

// mapping is the work of mapping one resource.
type mapping struct {
	*Mapper
	ctx   context.Context
	r     Resolver
	src   sharedcare.SourceRef
	facts sharedcare.Facts
	err   error
}

// Map reads one stored resource into shared-care facts. What the profile
// cannot map is returned in Facts.Unmapped, never dropped. The error is only
// the resolver's.
func (m *Mapper) Map(ctx context.Context, src sharedcare.SourceRef, res fhir.Value, r Resolver) (sharedcare.Facts, error) {
	src.Profile = m.profile.ID
	w := &mapping{Mapper: m, ctx: ctx, r: r, src: src, facts: sharedcare.Facts{Side: m.profile.Side}}
	switch src.Type {
	case "Patient":
		w.patient(res)
	case "Condition":
		w.subject(res, "subject")
		w.condition(res)
	case "Observation":
		w.subject(res, "subject")
		w.observation(res)
	case "Procedure":
		w.subject(res, "subject")
		w.procedure(res)
	case "EpisodeOfCare":
		w.subject(res, "patient")
		w.episodeOfCare(res)
	case "CarePlan":
		w.subject(res, "subject")
		w.carePlan(res)
	case "ServiceRequest":
		w.subject(res, "subject")
		w.serviceRequest(res)
	case "Task":
		w.subject(res, "for")
		w.task(res)
	case "Encounter":
		w.subject(res, "subject")
	case "Organization":
		for _, id := range get(res, "identifier").Items() {
			if w.ods[id.Str("system")] && id.Str("value") != "" {
				w.facts.Org = id.Str("value")
				break
			}
		}
	}
	return w.facts, w.err
}

func (w *mapping) unmapped(what, system, code, expr, reason string) {
	w.facts.Unmapped = append(w.facts.Unmapped, sharedcare.Unmapped{
		Profile: w.profile.ID, What: what, System: system, Code: code, Expression: w.src.Type + "." + expr, Reason: reason,
	})
}

// get walks object members.
func get(v fhir.Value, path ...string) fhir.Value {
	for _, p := range path {
		v, _ = v.Get(p)
	}
	return v
}

// subject sets the person the facts are about from a reference element.
func (w *mapping) subject(res fhir.Value, elem string) {
	ref, ok := res.Get(elem)
	if !ok {
		w.unmapped("reference", "", "", elem, "the resource names no person")
		return
	}
	if id, ok := strings.CutPrefix(ref.Str("reference"), "Patient/"); ok {
		w.facts.PatientRef = id
	}
	w.facts.NHSNumber = w.personOf(ref, elem)
}

// personOf returns the NHS number a Patient reference points at.
func (w *mapping) personOf(ref fhir.Value, expr string) string {
	if id, ok := ref.Get("identifier"); ok {
		sys, val := id.Str("system"), id.Str("value")
		if w.nhs[sys] {
			if n, valid := fhir.NormalizeNHSNumber(val); valid {
				return n
			}
			w.unmapped("identifier", sys, val, expr+".identifier", "not a valid NHS number")
			return ""
		}
	}
	literal := ref.Str("reference")
	if id, ok := strings.CutPrefix(literal, "Patient/"); ok && w.r != nil && w.err == nil {
		n, found, err := w.r.PatientNHSNumber(w.ctx, id)
		if err != nil {
			w.err = fmt.Errorf("resolve %s: %w", literal, err)
			return ""
		}
		if found {
			return n
		}
	}
	w.unmapped("reference", "", literal, expr, "the person has no known NHS number")
	return ""
}

// orgOf returns the ODS code an Organization reference points at, or "".
func (w *mapping) orgOf(ref fhir.Value) string {
	if id, ok := ref.Get("identifier"); ok && w.ods[id.Str("system")] {
		return id.Str("value")
	}
	if id, ok := strings.CutPrefix(ref.Str("reference"), "Organization/"); ok && w.r != nil && w.err == nil {
		code, found, err := w.r.OrganizationODS(w.ctx, id)
		if err != nil {
			w.err = fmt.Errorf("resolve Organization/%s: %w", id, err)
			return ""
		}
		if found {
			return code
		}
	}
	return ""
}

// concept translates a CodeableConcept to SNOMED CT: the first coding that
// has a meaning in the code sets, else the first that translates. Codings
// are flagged as unmapped only when none of them translates.
func (w *mapping) concept(cc fhir.Value, expr string) (string, meaning, bool) {
	c, mean, known, untranslated := w.conceptOf(cc)
	if c == "" {
		w.flagCodes(untranslated, expr)
	}
	return c, mean, known
}

// flagCodes reports codings that translate to nothing.
func (w *mapping) flagCodes(untranslated [][2]string, expr string) {
	for _, u := range untranslated {
		w.unmapped("code", u[0], u[1], expr, "no translation to SNOMED CT in this profile")
	}
}

// conceptOf is concept without reporting: it also returns the codings that
// did not translate.
func (w *mapping) conceptOf(cc fhir.Value) (string, meaning, bool, [][2]string) {
	var first string
	var untranslated [][2]string
	for _, c := range get(cc, "coding").Items() {
		sys, code := c.Str("system"), c.Str("code")
		sct, ok := w.translate(sys, code)
		if !ok {
			untranslated = append(untranslated, [2]string{sys, code})
			continue
		}
		if mean, known := w.codes.lookup(sct); known {
			return sct, mean, true, nil
		}
		if first == "" {
			first = sct
		}
	}
	return first, meaning{}, false, untranslated
}

// translate maps one coding to a SNOMED CT id.
func (w *mapping) translate(system, code string) (string, bool) {
	if w.pass[system] {
		return code, code != ""
	}
	cm := w.maps[system]
	if cm == nil {
		return "", false
	}
	best := -1
	for i, e := range cm.Elements {
		switch {
		case (e.Match == "" || e.Match == "exact") && e.Code == code:
			return e.Target, true
		case e.Match == "prefix" && strings.HasPrefix(code, e.Code):
			if best < 0 || len(e.Code) > len(cm.Elements[best].Code) {
				best = i // the longest prefix wins
			}
		}
	}
	if best >= 0 {
		return cm.Elements[best].Target, true
	}
	return "", false
}

func firstDate(res fhir.Value, choices ...[]string) string {
	for _, p := range choices {
		if s := get(res, p...).Text(); s != "" {
			return s
		}
	}
	return ""
}

func (w *mapping) patient(res fhir.Value) {
	p := &sharedcare.Person{BirthDate: res.Str("birthDate"), Sources: []sharedcare.SourceRef{w.src}}
	for i, id := range get(res, "identifier").Items() {
		if w.nhs[id.Str("system")] {
			if n, ok := fhir.NormalizeNHSNumber(id.Str("value")); ok {
				p.NHSNumber = n
				break
			}
			w.unmapped("identifier", id.Str("system"), id.Str("value"), fmt.Sprintf("identifier[%d]", i), "not a valid NHS number")
		}
	}
	if p.NHSNumber == "" {
		w.unmapped("identifier", "", "", "identifier", "no NHS number: the Patient is stored but linked to no person")
	}
	for _, gp := range get(res, "generalPractitioner").Items() {
		if code := w.orgOf(gp); code != "" {
			p.GPPractice = code
			break
		}
	}
	if d := res.Str("deceasedDateTime"); d != "" {
		p.Deceased, p.DeathDate = true, d
	} else if b, ok := res.Get("deceasedBoolean"); ok && b.Bool() {
		p.Deceased = true
	}
	w.facts.NHSNumber = p.NHSNumber
	w.facts.Person = p
}

func (w *mapping) condition(res fhir.Value) {
	code, mean, known := w.concept(get(res, "code"), "code")
	if !known || (mean.diagnosis == "" && !mean.remission) {
		return
	}
	entry := sharedcare.RegisterEntry{
		Category: mean.diagnosis, Remission: mean.remission, Concept: code,
		Date: firstDate(res, []string{"onsetDateTime"}, []string{"onsetPeriod", "start"}, []string{"recordedDate"}),
		Side: w.profile.Side, Org: w.orgOf(get(res, "asserter")), Source: w.src,
	}
	w.facts.Register = append(w.facts.Register, entry)
	for _, c := range get(res, "clinicalStatus", "coding").Items() {
		if c.Str("system") == "http://terminology.hl7.org/CodeSystem/condition-clinical" && c.Str("code") == "remission" && !mean.remission {
			marker := entry
			marker.Remission = true
			marker.Date = firstDate(res, []string{"abatementDateTime"}, []string{"abatementPeriod", "start"}, []string{"recordedDate"}, []string{"onsetDateTime"})
			w.facts.Register = append(w.facts.Register, marker)
		}
	}
}

func (w *mapping) observation(res fhir.Value) {
	date := firstDate(res, []string{"effectiveDateTime"}, []string{"effectivePeriod", "start"}, []string{"effectiveInstant"})
	performer := ""
	for _, p := range get(res, "performer").Items() {
		if performer = w.orgOf(p); performer != "" {
			break
		}
	}
	base := sharedcare.Evidence{Date: date, Status: res.Str("status"), Side: w.profile.Side, Performer: performer, Source: w.src}

	code, mean, known, untranslated := w.conceptOf(get(res, "code"))
	before := len(w.facts.Evidence) + len(w.facts.Declines)
	defer func() {
		if code == "" && len(w.facts.Evidence)+len(w.facts.Declines) == before {
			w.flagCodes(untranslated, "code")
		}
	}()
	// A panel (blood pressure) carries its values in components.
	comps := get(res, "component").Items()
	if len(comps) > 0 {
		found := false
		for i, c := range comps {
			expr := fmt.Sprintf("component[%d]", i)
			cc, cm, ok := w.concept(get(c, "code"), expr+".code")
			if !ok || cm.component == "" {
				continue
			}
			found = true
			w.evidence(base, cc, cm, c, expr)
		}
		if found {
			return
		}
	}
	if known && mean.component != "" {
		w.evidence(base, code, mean, res, "")
		return
	}
	// A status question (smoking, alcohol) whose answer is the coded value.
	if v, ok := res.Get("valueCodeableConcept"); ok {
		if vc, vm, ok := w.concept(v, "valueCodeableConcept"); ok && vm.component != "" {
			w.evidence(base, vc, vm, fhir.Value{}, "")
		}
	}
}

// evidence adds one item of evidence (or a decline) for concept, with the
// value of holder's valueQuantity normalised to UCUM.
func (w *mapping) evidence(base sharedcare.Evidence, concept string, mean meaning, holder fhir.Value, expr string) {
	if mean.declined {
		w.facts.Declines = append(w.facts.Declines, sharedcare.Decline{
			Component: mean.component, Concept: concept, Unsuitable: mean.unsuitable, Date: base.Date, Side: base.Side, Source: base.Source,
		})
		return
	}
	e := base
	e.Component, e.Concept = mean.component, concept
	if q, ok := holder.Get("valueQuantity"); ok {
		if expr != "" {
			expr += "."
		}
		w.quantity(&e, mean.concept, q, expr+"valueQuantity")
	}
	if v, ok := holder.Get("valueInteger"); ok {
		if n, err := strconv.ParseFloat(v.Text(), 64); err == nil {
			e.Value = &n
		}
	}
	if v, ok := holder.Get("valueCodeableConcept"); ok {
		if c, _, _ := w.concept(v, "valueCodeableConcept"); c != "" {
			e.Text = c
		}
	}
	w.facts.Evidence = append(w.facts.Evidence, e)
}

// quantity normalises a Quantity to the concept's UCUM unit. A unit the
// profile cannot normalise leaves the value out and is flagged: units are
// never guessed.
func (w *mapping) quantity(e *sharedcare.Evidence, c Concept, q fhir.Value, expr string) {
	value, err := strconv.ParseFloat(get(q, "value").Text(), 64)
	if err != nil {
		return
	}
	unit := q.Str("unit")
	if q.Str("system") == ucumSystem && q.Str("code") != "" {
		unit = q.Str("code")
	}
	if rule, ok := w.unitRule(c.Code, unit); ok {
		conv := rule.Conversion
		if conv == "" {
			conv = "identity"
		}
		converted := conversions[conv](value)
		e.Value, e.Unit, e.Converted = &converted, rule.To, conv != "identity"
		if e.Converted {
			r := math.Round(converted*10) / 10
			e.Value = &r
		}
		return
	}
	if c.Unit == "" || unit == c.Unit && q.Str("system") == ucumSystem {
		e.Value, e.Unit = &value, unit
		return
	}
	w.unmapped("unit", q.Str("system"), unit, expr, fmt.Sprintf("no rule turns %q into %s for concept %s; the value is kept in the stored resource but not used", unit, c.Unit, c.Code))
}

func (w *mapping) unitRule(concept, from string) (UnitRule, bool) {
	for _, scoped := range []bool{true, false} {
		for _, u := range w.profile.Units {
			if u.From == from && (scoped && u.Concept == concept || !scoped && u.Concept == "") {
				return u, true
			}
		}
	}
	return UnitRule{}, false
}

func (w *mapping) procedure(res fhir.Value) {
	code, mean, known := w.concept(get(res, "code"), "code")
	if !known || mean.component == "" {
		return
	}
	base := sharedcare.Evidence{
		Date:   firstDate(res, []string{"performedDateTime"}, []string{"performedPeriod", "start"}),
		Status: res.Str("status"), Side: w.profile.Side, Source: w.src,
	}
	for _, p := range get(res, "performer").Items() {
		if base.Performer = w.orgOf(get(p, "onBehalfOf")); base.Performer != "" {
			break
		}
	}
	w.evidence(base, code, mean, fhir.Value{}, "")
}

// hasCoding reports whether any coding of the concepts is in list.
func hasCoding(ccs []fhir.Value, list []Coding) bool {
	for _, cc := range ccs {
		for _, c := range get(cc, "coding").Items() {
			if slices.Contains(list, Coding{System: c.Str("system"), Code: c.Str("code")}) {
				return true
			}
		}
	}
	return false
}

func (w *mapping) episodeFlags(e *sharedcare.Episode, ccs []fhir.Value) {
	rules := &w.profile.Episodes
	e.Inpatient = hasCoding(ccs, rules.Inpatient)
	e.EarlyIntervention = hasCoding(ccs, rules.EarlyIntervention)
	e.Stabilised = hasCoding(ccs, rules.Stabilised)
}

func (w *mapping) episodeOfCare(res fhir.Value) {
	e := sharedcare.Episode{
		Trust: w.orgOf(get(res, "managingOrganization")),
		Start: get(res, "period", "start").Text(), End: get(res, "period", "end").Text(),
		Source: w.src,
	}
	if !episodeStatus(&e, res.Str("status"), "finished", "cancelled") {
		return
	}
	if teams := get(res, "team").Items(); len(teams) > 0 {
		e.Team = cmpOr(teams[0].Str("display"), teams[0].Str("reference"))
	}
	if cm, ok := res.Get("careManager"); ok {
		e.KeyWorker = cmpOr(cm.Str("reference"), get(cm, "identifier").Str("value"), cm.Str("display"))
	}
	w.episodeFlags(&e, get(res, "type").Items())
	w.facts.Episodes = append(w.facts.Episodes, e)
}

// episodeStatus applies a resource's status to the episode it describes:
// one entered in error is no episode (false); one of the closed statuses
// (finished, cancelled; a CarePlan's completed, revoked) has ended, on its
// period's end or, without one, on its start, so that it is never read as
// open.
func episodeStatus(e *sharedcare.Episode, status string, closed ...string) bool {
	if status == "entered-in-error" {
		return false
	}
	if slices.Contains(closed, status) && e.End == "" {
		e.End = e.Start
	}
	return true
}

func (w *mapping) carePlan(res fhir.Value) {
	cats := get(res, "category").Items()
	if w.profile.Episodes.Resource == "CarePlan" && hasCoding(cats, w.profile.Episodes.Categories) {
		e := sharedcare.Episode{
			Trust: w.orgOf(get(res, "author")),
			Start: get(res, "period", "start").Text(), End: get(res, "period", "end").Text(),
			Source: w.src,
		}
		if !episodeStatus(&e, res.Str("status"), "completed", "revoked") {
			return
		}
		w.episodeFlags(&e, cats)
		w.facts.Episodes = append(w.facts.Episodes, e)
		return
	}
	cp := sharedcare.CarePlan{Status: res.Str("status"), Start: get(res, "period", "start").Text(), ReviewDate: get(res, "period", "end").Text(), Source: w.src}
	if a := w.orgOf(get(res, "author")); a != "" {
		cp.Owners = append(cp.Owners, a)
	}
	for _, c := range get(res, "contributor").Items() {
		if o := w.orgOf(c); o != "" && !slices.Contains(cp.Owners, o) {
			cp.Owners = append(cp.Owners, o)
		}
	}
	w.facts.CarePlans = append(w.facts.CarePlans, cp)
}

func (w *mapping) serviceRequest(res fhir.Value) {
	r := sharedcare.Referral{
		From: w.orgOf(get(res, "requester")), Priority: res.Str("priority"), Status: res.Str("status"),
		Authored: res.Str("authoredOn"), Source: w.src,
	}
	if ps := get(res, "performer").Items(); len(ps) > 0 {
		r.To = w.orgOf(ps[0])
	}
	if rc := get(res, "reasonCode").Items(); len(rc) > 0 {
		if c, _, ok := w.concept(rc[0], "reasonCode[0]"); ok {
			r.Reason = c
		} else {
			r.Reason = rc[0].Str("text")
		}
	}
	urgent := r.Priority == "urgent" || r.Priority == "asap" || r.Priority == "stat"
	r.ReReferral = w.profile.Side == sharedcare.Primary && urgent && r.To != "" && r.To != r.From
	w.facts.Referrals = append(w.facts.Referrals, r)
}

func (w *mapping) task(res fhir.Value) {
	t := sharedcare.WorkItem{
		Status:    res.Str("status"),
		Owner:     w.orgOf(get(res, "owner")),
		Requester: w.orgOf(get(res, "requester")),
		Due:       get(res, "restriction", "period", "end").Text(),
		Source:    w.src,
	}
	if bs := get(res, "businessStatus", "coding").Items(); len(bs) > 0 {
		t.BusinessStatus = bs[0].Str("code")
	}
	t.Code = get(res, "code").Str("text")
	if cs := get(res, "code", "coding").Items(); len(cs) > 0 {
		t.Code = cs[0].Str("code")
	}
	w.facts.WorkItems = append(w.facts.WorkItems, t)
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
