package synth

import (
	"math/rand/v2"
	"time"
)

// component is one of the six parts of the annual SMI physical health check.
type component uint8

const (
	cBMI component = iota
	cBP
	cLipids
	cGlucose
	cAlcohol
	cSmoking
	nComponents
)

func (c component) String() string {
	return [nComponents]string{"bmi", "blood-pressure", "lipids", "glucose", "alcohol", "smoking"}[c]
}

// side is which half of shared care recorded something.
type side uint8

const (
	gp side = iota
	trust
)

// day is a calendar date, as days since 1970-01-01.
type day int32

func dayOf(t time.Time) day { return day(t.Unix() / 86400) }

func (d day) time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// episodeKind is a person's state with the trust at the reference date
// (domain reference §5.5).
type episodeKind uint8

const (
	noEpisode       episodeKind = iota // known to the GP only
	epNew                              // open, started less than 12 months ago
	epEarly                            // as epNew, with an early intervention in psychosis team
	epInpatient                        // on a ward now
	epStabilised                       // open 12 months or more, stabilised: shared care
	epNotStabilised                    // open 12 months or more, not stabilised
	epDischarged                       // ended: back to the GP
)

// trustLeads reports whether the trust does the check (§5.5).
func (k episodeKind) trustLeads() bool {
	return k == epNew || k == epEarly || k == epInpatient || k == epNotStabilised
}

// Kinds of readings.
const (
	glucoseHbA1c   = 0
	glucoseFasting = 1
	smokeCurrent   = 0
	smokeEx        = 1
	smokeNever     = 2
	alcoholAuditC  = 0
	alcoholFinding = 1
)

// reading is one result for a component, in canonical units: BMI kg/m2;
// blood pressure systolic (a) and diastolic (b) mm[Hg]; total cholesterol
// mmol/L; HbA1c mmol/mol or fasting glucose mmol/L; AUDIT-C score.
type reading struct {
	comp   component
	side   side
	day    day
	minute int // minutes after local midnight
	a, b   float64
	kind   uint8 // glucose, smoking or alcohol kind
	pick   uint8 // which code of several (smoking, alcohol findings)
	split  bool  // blood pressure as two Observations rather than a panel
}

// decline is a blood pressure procedure declined, as recorded by one side.
type decline struct {
	side side
	day  day
}

// person is one synthetic person, decided in full before any FHIR is
// written, so that both sides describe the same life.
type person struct {
	nhs                 string
	practice, trust     int // indexes into the configuration; trust is -1 for people known to the GP only
	gender              string
	given, family       string
	birth, died         day // died is 0 while alive
	trustKnowsDeath     bool
	cat                 category
	dx                  int // index of the diagnosis code in its category
	gpDx, trustDx       bool
	gpOnset, trustOnset day
	remitted            day // 0 unless the trust records remission
	episode             episodeKind
	epStart, epEnd      day // epEnd is 0 while open
	readings            []reading
	bpDeclined          []decline
	referral            day // 0: no GP referral to the trust
	task                day // 0: no trust Task to the GP
	taskComp            component
	carePlan            day // 0: no GP care plan
}

// pick returns an index chosen by weights.
func pick(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between returns a day in [from, to]; to when from is not before it (a
// date bounded by a death, say, never passes it).
func between(r *rand.Rand, from, to day) day {
	if to <= from {
		return to
	}
	return from + day(r.IntN(int(to-from)+1))
}

var (
	givenFemale = []string{"Ada", "Cara", "Fay", "Grace", "Hana", "Isla", "Jade", "Kemi", "Lena", "Maya", "Nia", "Orla", "Priya", "Rosa", "Sana", "Tara", "Una", "Vera", "Wren", "Zoe"}
	givenMale   = []string{"Ben", "Dev", "Eli", "Finn", "Gus", "Hugo", "Ivan", "Jon", "Kofi", "Liam", "Max", "Nico", "Omar", "Pete", "Raj", "Sam", "Theo", "Umar", "Vik", "Will"}
	givenOther  = []string{"Alex", "Charlie", "Jordan", "Robin", "Sky"}
	families    = []string{"Adeyemi", "Brown", "Chen", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Smith", "Taylor", "Usman", "Vaughan", "Walsh", "Young"}
)

// newPerson decides everything about person n. r is the person's own
// random stream, so a person depends only on the seed, n and the
// configuration.
func (g *generator) newPerson(r *rand.Rand, n int, nhs string) *person {
	asOf := g.asOf
	p := &person{nhs: nhs, practice: n * len(g.practices) / g.cfg.People, trust: -1}
	if len(g.trusts) > 0 && chance(r, 0.45) {
		p.trust = p.practice * len(g.trusts) / len(g.practices)
	}

	switch pick(r, 490, 490, 10, 10) {
	case 0:
		p.gender, p.given = "female", givenFemale[r.IntN(len(givenFemale))]
	case 1:
		p.gender, p.given = "male", givenMale[r.IntN(len(givenMale))]
	case 2:
		p.gender, p.given = "other", givenOther[r.IntN(len(givenOther))]
	default:
		p.gender, p.given = "unknown", givenOther[r.IntN(len(givenOther))]
	}
	p.family = families[r.IntN(len(families))]
	var age int
	switch pick(r, 3, 87, 10) {
	case 0:
		age = 14 + r.IntN(4) // any age: the register has no lower limit
	case 1:
		age = 18 + r.IntN(58)
	default:
		age = 76 + r.IntN(15)
	}
	p.birth = asOf - day(age*365+r.IntN(365))
	adult := p.birth + 14*365 // the earliest diagnosis

	weights := make([]int, nCategories)
	for c := range nCategories {
		weights[c] = diagnoses[c].perMille
	}
	p.cat = category(pick(r, weights...))

	if p.trust >= 0 {
		p.episode = episodeKind(1 + pick(r, 10, 8, 10, 30, 17, 25))
	}
	switch p.episode {
	case epNew, epEarly:
		p.epStart = asOf - day(14+r.IntN(320))
	case epInpatient:
		p.epStart = asOf - day(3+r.IntN(120))
	case epStabilised:
		p.epStart = asOf - day(400+r.IntN(3200))
	case epNotStabilised:
		p.epStart = asOf - day(400+r.IntN(2600))
	case epDischarged:
		p.epStart = asOf - day(900+r.IntN(2100))
		p.epEnd = asOf - day(30+r.IntN(770))
	}
	p.epStart = max(p.epStart, adult)
	if p.epEnd != 0 && p.epEnd < p.epStart+30 { // too young to have been discharged
		p.episode, p.epEnd = epNotStabilised, 0
	}

	// The diagnosis: at the start of a first episode, or years ago.
	diagnosed := max(adult, asOf-day(730+r.IntN(23*365)))
	if p.episode == epNew || p.episode == epEarly {
		diagnosed = min(asOf, p.epStart+day(r.IntN(30)))
	}
	p.dx = r.IntN(len(diagnoses[p.cat].snomed))
	p.gpDx = p.trust < 0 || chance(r, 0.9)
	p.trustDx = p.trust >= 0 && (chance(r, 0.9) || !p.gpDx)
	p.gpOnset = diagnosed
	p.trustOnset = min(asOf, diagnosed+day(r.IntN(60)))
	if p.trustDx && (p.episode == epStabilised || p.episode == epNotStabilised || p.episode == epDischarged) && chance(r, 0.15) {
		p.remitted = between(r, max(p.gpOnset+30, p.trustOnset+30, asOf-900), asOf-14)
	}

	last := asOf
	if chance(r, 0.02) {
		p.died = between(r, max(diagnosed+30, asOf-600), asOf-1)
		p.trustKnowsDeath = p.trust >= 0 && chance(r, 0.5)
		last = p.died
	}
	g.decideChecks(r, p, last)

	if len(g.trusts) > 0 && chance(r, 0.06) {
		p.referral = between(r, asOf-300, last)
	}
	if chance(r, 0.4) {
		p.carePlan = between(r, asOf-400, last)
	}
	return p
}

// decideChecks decides the health check results of a person: who did each
// component, when, with what result, and what was declined.
func (g *generator) decideChecks(r *rand.Rand, p *person, last day) {
	asOf := g.asOf
	engaged := chance(r, 0.5)
	gpDay := between(r, last-340, last)
	trustDay := between(r, last-340, last)
	if p.epStart > trustDay && p.epStart <= last {
		trustDay = between(r, p.epStart, last)
	}
	rate := [nComponents]float64{cBMI: 1.05, cBP: 1.07, cLipids: 0.88, cGlucose: 0.92, cAlcohol: 0.97, cSmoking: 1.07}
	var missing []component
	for c := range nComponents {
		base := 0.45
		if engaged {
			base = 0.93
		}
		if !chance(r, min(1, base*rate[c])) {
			missing = append(missing, c)
			if chance(r, 0.35) { // an old result, outside the window
				s := g.sideFor(r, p)
				g.addReading(r, p, c, s, between(r, last-900, last-380))
			}
			if c == cBP && chance(r, 0.25) {
				s := gp
				if p.episode.trustLeads() {
					s = trust
				}
				p.bpDeclined = append(p.bpDeclined, decline{s, between(r, last-300, last)})
			}
			continue
		}
		s := g.sideFor(r, p)
		when := func(d day) day {
			if c == cLipids || c == cGlucose { // bloods, a few days after the check
				d = min(last, d+day(r.IntN(8)))
			}
			return d
		}
		var first reading
		if s == trust {
			first = g.addReading(r, p, c, trust, when(trustDay))
		} else {
			first = g.addReading(r, p, c, gp, when(gpDay))
		}
		if chance(r, 0.25) { // last year's check too
			g.addReading(r, p, c, first.side, first.day-370-day(r.IntN(60)))
		}
		if p.trust < 0 || !chance(r, 0.25) {
			continue
		}
		// Both sides: a duplicate, a same-day conflict, or another day.
		switch pick(r, 50, 15, 35) {
		case 0:
			dup := first
			dup.side = 1 - first.side
			dup.minute = min(1020, first.minute+5*r.IntN(12))
			p.readings = append(p.readings, dup)
		case 1:
			other := first
			other.side = 1 - first.side
			g.perturb(r, &other)
			p.readings = append(p.readings, other)
		default:
			d := gpDay
			if first.side == gp {
				d = trustDay
			}
			g.addReading(r, p, c, 1-first.side, when(d))
		}
	}
	if p.trust >= 0 && len(missing) > 0 && p.epEnd == 0 && chance(r, 0.3) {
		p.taskComp = missing[r.IntN(len(missing))]
		p.task = between(r, max(asOf-200, p.epStart), last)
	}
}

// sideFor chooses who did a component: the side responsible (§5.5) mostly.
func (g *generator) sideFor(r *rand.Rand, p *person) side {
	if p.trust < 0 {
		return gp
	}
	trustShare := 0.2
	if p.episode.trustLeads() {
		trustShare = 0.75
	}
	if chance(r, trustShare) {
		return trust
	}
	return gp
}

// addReading adds a result for c by s on d, with a value drawn around the
// follow-up thresholds (domain reference §4).
func (g *generator) addReading(r *rand.Rand, p *person, c component, s side, d day) reading {
	rd := reading{comp: c, side: s, day: max(d, p.birth+14*365), minute: 510 + 5*r.IntN(103)}
	switch c {
	case cBMI:
		switch pick(r, 30, 5, 8, 57) {
		case 0:
			rd.a = 18.5 + float64(r.IntN(64))/10
		case 1:
			rd.a = 24.9
		case 2:
			rd.a = 25.0
		default:
			rd.a = 25.1 + float64(r.IntN(200))/10
		}
	case cBP:
		switch pick(r, 55, 7, 8, 30) {
		case 0:
			rd.a, rd.b = float64(100+r.IntN(36)), float64(60+r.IntN(26))
		case 1:
			rd.a, rd.b = 139, 89
		case 2: // at the threshold: systolic 140, diastolic 90, or both
			switch r.IntN(3) {
			case 0:
				rd.a, rd.b = 140, 90
			case 1:
				rd.a, rd.b = 140, float64(70+r.IntN(15))
			default:
				rd.a, rd.b = float64(120+r.IntN(15)), 90
			}
		default:
			rd.a, rd.b = float64(141+r.IntN(40)), float64(70+r.IntN(36))
		}
		rd.split = chance(r, 0.35)
	case cLipids:
		switch pick(r, 65, 7, 28) {
		case 0:
			rd.a = 3.5 + float64(r.IntN(25))/10
		case 1:
			rd.a = 6.0
		default:
			rd.a = 6.1 + float64(r.IntN(25))/10
		}
	case cGlucose:
		if chance(r, 0.1) {
			rd.kind = glucoseFasting
			rd.a = []float64{4.0 + float64(r.IntN(15))/10, 5.5 + float64(r.IntN(15))/10, 7.0 + float64(r.IntN(40))/10}[pick(r, 70, 20, 10)]
			break
		}
		switch pick(r, 58, 5, 7, 12, 5, 13) {
		case 0:
			rd.a = float64(30 + r.IntN(11))
		case 1:
			rd.a = 41
		case 2:
			rd.a = 42
		case 3:
			rd.a = float64(43 + r.IntN(5))
		case 4:
			rd.a = 48
		default:
			rd.a = float64(49 + r.IntN(42))
		}
	case cAlcohol:
		if chance(r, 0.2) {
			rd.kind, rd.pick = alcoholFinding, uint8(r.IntN(len(alcoholFindings)))
			break
		}
		rd.a = []float64{float64(r.IntN(4)), 4, 5, float64(6 + r.IntN(7))}[pick(r, 55, 12, 8, 25)]
	case cSmoking:
		rd.kind = uint8(pick(r, 40, 25, 35))
		rd.pick = uint8(r.IntN(len(smokingCurrent)))
	}
	p.readings = append(p.readings, rd)
	return rd
}

// perturb changes a reading's value, as a second measurement on the same
// day by the other side would.
func (g *generator) perturb(r *rand.Rand, rd *reading) {
	step := float64(1 + r.IntN(5))
	if chance(r, 0.5) {
		step = -step
	}
	switch rd.comp {
	case cBMI:
		rd.a = roundTo(rd.a+0.3*step, 1)
	case cBP:
		rd.a, rd.b = rd.a+3*step, rd.b+2*step
	case cLipids:
		rd.a = roundTo(max(2.5, rd.a+0.2*step), 1)
	case cGlucose:
		if rd.kind == glucoseFasting {
			rd.a = roundTo(max(3.5, rd.a+0.3*step), 1)
		} else {
			rd.a = max(25, rd.a+step)
		}
	case cAlcohol:
		if rd.kind == alcoholFinding {
			rd.pick = (rd.pick + 1) % uint8(len(alcoholFindings))
		} else {
			rd.a = float64((int(rd.a) + 13 + int(step)) % 13)
		}
	case cSmoking:
		rd.kind = (rd.kind + 1) % 3
	}
}
