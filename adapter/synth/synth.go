// Package synth generates a synthetic population of people on the serious
// mental illness (SMI) register, as the FHIR R4 transaction Bundles their GP
// practices and mental health trusts would send CareBridge: each
// organisation in the dialect of one shipped mapping profile (codes, units,
// references), with SMI diagnoses of every kind, remission, episodes of
// secondary care, and annual health check results done by either side, both
// or neither, around the follow-up thresholds, duplicated, conflicting, old
// or declined.
//
// Generation is deterministic (the same Config gives the same bytes) and
// streamed: Bundles are handed to a callback as they are made, so a national
// population never sits in memory. Resources carry stable ids or
// conditional creates, so loading the same population twice adds nothing.
//
// NHS numbers come from the range NHS England keeps for test data. The
// package owns no I/O: no HTTP, no database, no clock.
package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Bundle is one transaction Bundle from one organisation.
type Bundle struct {
	Side   string // SidePrimary or SideSecondary
	Org    string // the sender's ODS code
	Source string // the sender's meta.source
	People int    // how many people it describes
	JSON   []byte // the Bundle; the callback may keep it
}

// Stats counts what Generate made: people, Bundles, resources (Bundle
// entries), and the people that show each scenario (see Scenarios).
type Stats struct {
	People    int
	Bundles   int
	Resources int
	Scenarios map[Scenario]int
}

// generator is the state of one Generate call.
type generator struct {
	cfg         Config
	asOf        day
	windowStart day // a result counts as done after this day (12 calendar months)
	practices   []*orgInfo
	trusts      []*orgInfo
	out         [2]*bundler
	counts      [nScenarios]int
	stats       Stats
}

// Generate makes cfg's population and hands each Bundle to emit, in a
// deterministic order: for each person, their practice's Bundle, then their
// trust's (with PeoplePerBundle above 1, each when full or when the sender
// changes). It stops at the first error of emit, or when ctx ends.
func Generate(ctx context.Context, cfg Config, emit func(Bundle) error) (Stats, error) {
	asOf, err := cfg.check()
	if err != nil {
		return Stats{}, fmt.Errorf("synthetic population: %w", err)
	}
	per := max(1, cfg.PeoplePerBundle)
	g := &generator{cfg: cfg, asOf: dayOf(asOf), windowStart: dayOf(asOf.AddDate(-1, 0, 0))}
	if asOf.Month() == time.February && asOf.Day() == 29 {
		g.windowStart = dayOf(time.Date(asOf.Year()-1, time.February, 28, 0, 0, 0, 0, time.UTC))
	}
	for _, o := range cfg.Practices {
		g.practices = append(g.practices, newOrgInfo(o))
	}
	for _, o := range cfg.Trusts {
		g.trusts = append(g.trusts, newOrgInfo(o))
	}
	for s, name := range []string{SidePrimary, SideSecondary} {
		g.out[s] = &bundler{side: name, per: per, emit: emit, stats: &g.stats}
	}

	numbers := newNHSNumbers(cfg.Seed)
	var pcg rand.PCG
	r := rand.New(&pcg)
	for n := range cfg.People {
		if n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return g.result(), err
			}
		}
		nhs, ok := numbers.next()
		if !ok {
			return g.result(), fmt.Errorf("synthetic population: the synthetic NHS number range is used up after %d people", n)
		}
		pcg.Seed(cfg.Seed, uint64(n))
		p := g.newPerson(r, n, nhs)
		g.count(p)
		if err := g.write(n, p); err != nil {
			return g.result(), err
		}
		g.stats.People++
	}
	for _, b := range g.out {
		if err := b.flush(); err != nil {
			return g.result(), err
		}
	}
	return g.result(), nil
}

func (g *generator) result() Stats {
	s := g.stats
	s.Scenarios = make(map[Scenario]int, nScenarios)
	for i, n := range g.counts {
		s.Scenarios[scenario(i).name()] = n
	}
	return s
}

// write writes person n's resources into their practice's and trust's
// Bundles.
func (g *generator) write(n int, p *person) error {
	practice := g.practices[p.practice]
	for _, s := range []side{gp, trust} {
		o := practice
		if s == trust {
			if p.trust < 0 {
				continue
			}
			o = g.trusts[p.trust]
		}
		b := g.out[s]
		if err := b.start(o); err != nil {
			return err
		}
		sw := &sideWriter{w: &b.w, o: o, p: p}
		sw.ids.pcg.Seed(g.cfg.Seed^0x1d5_5eed, uint64(n)<<1|uint64(s))
		sw.organization()
		if s == gp {
			g.writeGP(sw, p, practice)
		} else {
			g.writeTrust(sw, p, practice)
		}
		b.people++
		b.entries += sw.entries
	}
	return nil
}

func (g *generator) writeGP(sw *sideWriter, p *person, practice *orgInfo) {
	sw.patient(practice.ODS, true)
	if p.gpDx {
		sw.condition(p.gpOnset, 0)
	}
	g.results(sw, p, gp)
	if p.referral != 0 {
		t := p.trust
		if t < 0 {
			t = p.practice * len(g.trusts) / len(g.practices)
		}
		sw.referral(g.trusts[t].ODS)
	}
	if p.carePlan != 0 {
		sw.carePlan()
	}
}

func (g *generator) writeTrust(sw *sideWriter, p *person, practice *orgInfo) {
	sw.patient(practice.ODS, p.trustKnowsDeath)
	if p.trustDx {
		sw.condition(p.trustOnset, p.remitted)
	}
	sw.episode()
	g.results(sw, p, trust)
	if p.task != 0 {
		sw.task(practice.ODS)
	}
}

func (g *generator) results(sw *sideWriter, p *person, s side) {
	for _, rd := range p.readings {
		if rd.side == s {
			sw.observation(rd)
		}
	}
	for _, d := range p.bpDeclined {
		if d.side == s {
			sw.bpDeclined(d.day)
		}
	}
}

// bundler builds the Bundles of one side.
type bundler struct {
	side    string
	per     int
	emit    func(Bundle) error
	stats   *Stats
	org     *orgInfo // the sender of the Bundle being built; nil when none is
	w       jsonWriter
	people  int
	entries int
	size    int // the length of the last Bundle, to size the next
}

// start makes sure a Bundle from o with room for one more person is being
// built.
func (b *bundler) start(o *orgInfo) error {
	if b.org != nil && (b.org != o || b.people >= b.per) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if b.org == nil {
		b.org = o
		b.w = jsonWriter{b: make([]byte, 0, b.size+b.size/4+512)}
		b.w.object("")
		b.w.str("resourceType", "Bundle")
		b.w.str("type", "transaction")
		b.w.array("entry")
	}
	return nil
}

// flush hands the Bundle being built, if any, to emit.
func (b *bundler) flush() error {
	if b.org == nil {
		return nil
	}
	b.w.endArray()
	b.w.endObject()
	out := Bundle{Side: b.side, Org: b.org.ODS, Source: b.org.Source, People: b.people, JSON: b.w.b}
	b.stats.Bundles++
	b.stats.Resources += b.entries
	b.size = len(b.w.b)
	b.org, b.w, b.people, b.entries = nil, jsonWriter{}, 0, 0
	if err := b.emit(out); err != nil {
		return fmt.Errorf("synthetic population: bundle %d (%s %s): %w", b.stats.Bundles, out.Side, out.Org, err)
	}
	return nil
}
