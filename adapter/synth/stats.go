package synth

// count adds the scenarios person p shows to the generator's counts. They
// are read from the readings as the gateway will see them: values after the
// receiving profile's unit conversion, duplicates only where both sides send
// the same concept, day and value.
func (g *generator) count(p *person) {
	var s scenarioSet
	s.add(scenario(p.cat))
	if p.remitted != 0 {
		s.add(scRemission)
	}
	if p.died != 0 {
		s.add(scDeceased)
	}
	switch p.episode {
	case noEpisode:
		s.add(scGPOnly)
	case epNew:
		s.add(scEpisodeNew)
	case epEarly:
		s.add(scEpisodeEarly)
	case epInpatient:
		s.add(scEpisodeInpatient)
	case epStabilised:
		s.add(scEpisodeStabilised)
	case epNotStabilised:
		s.add(scEpisodeNotStabilised)
	case epDischarged:
		s.add(scEpisodeDischarged)
	}

	var done [2][nComponents]bool
	var any [nComponents]bool
	meanings := make([]meaning, len(p.readings))
	for i, rd := range p.readings {
		m := g.meaningOf(p, rd)
		meanings[i] = m
		any[rd.comp] = true
		if rd.day > g.windowStart && rd.day <= g.asOf {
			done[rd.side][rd.comp] = true
		}
		m.classify(&s)
		if rd.comp == cBP {
			if rd.split {
				s.add(scBPSeparate)
			} else {
				s.add(scBPPanel)
			}
		}
		for j := range i {
			o, om := p.readings[j], meanings[j]
			if o.side == rd.side || o.day != rd.day || om.family != m.family {
				continue
			}
			if om.concept == m.concept && om.a == m.a && om.b == m.b {
				s.add(scDuplicate)
			} else {
				s.add(scConflict)
			}
		}
	}
	allSix := true
	for c := range nComponents {
		s.add(doneScenario(c, done[gp][c], done[trust][c]))
		inWindow := done[gp][c] || done[trust][c]
		allSix = allSix && inWindow
		if any[c] && !inWindow {
			s.add(scOutOfWindow)
		}
	}
	if allSix {
		s.add(scAllSix)
	}
	if len(p.bpDeclined) > 0 {
		s.add(scDeclineBP)
	}
	if p.referral != 0 {
		s.add(scReferral)
	}
	if p.task != 0 {
		s.add(scTask)
	}
	if p.carePlan != 0 {
		s.add(scCarePlan)
	}
	for i := range g.counts {
		if s.has(scenario(i)) {
			g.counts[i]++
		}
	}
}

// meaning is what a reading says once the receiving profile has read it.
type meaning struct {
	family  string // what is measured: readings of one family on one day may conflict
	concept string // the SNOMED CT concept, or the family where it is always the same
	a, b    float64
}

func (g *generator) meaningOf(p *person, rd reading) meaning {
	o := g.practices[p.practice]
	if rd.side == trust {
		o = g.trusts[p.trust]
	}
	d := &o.d
	m := meaning{family: rd.comp.String(), a: rd.a, b: rd.b}
	m.concept = m.family
	switch rd.comp {
	case cLipids:
		if d.cholMgPerDL {
			m.a = cholesterolFromMg(cholesterolMgPerDL(rd.a))
		}
	case cGlucose:
		if rd.kind == glucoseFasting {
			m.family, m.concept = "fasting-glucose", "fasting-glucose"
		} else if d.hba1cPercent {
			m.a = hba1cFromPercent(hba1cPercent(rd.a))
		}
	case cAlcohol:
		if rd.kind == alcoholFinding {
			m.family, m.concept = "alcohol-finding", alcoholFindings[rd.pick].code
		}
	case cSmoking:
		m.concept = smokingStatus(rd, d).code
		switch {
		case d.localSmoking && rd.kind == smokeCurrent: // the profile maps SMOKER to Smoker
			m.concept = smokingCurrent[0].code
		case d.localSmoking && rd.kind == smokeNever:
			m.concept = smokingNever.code
		}
		m.a = float64(rd.kind)
	}
	return m
}

// classify adds the abnormal-result and threshold scenarios of a reading
// (domain reference §4; adapter/healthcheck/rules/default.yaml).
func (m meaning) classify(s *scenarioSet) {
	switch m.family {
	case "bmi":
		if m.a >= 25 {
			s.add(scBMIHigh)
		}
		if m.a == 25 {
			s.add(scBMIAt25)
		}
	case "blood-pressure":
		if m.a >= 140 || m.b >= 90 {
			s.add(scBPHigh)
		}
		if m.a == 140 || m.b == 90 {
			s.add(scBPAt140Or90)
		}
	case "glucose":
		if m.a >= 42 && m.a < 48 {
			s.add(scHbA1cHyperglycaemia)
		}
		if m.a >= 48 {
			s.add(scHbA1cDiabetes)
		}
		if m.a == 42 || m.a == 48 {
			s.add(scHbA1cAt42Or48)
		}
	case "fasting-glucose":
		s.add(scFastingGlucose)
	case "lipids":
		if m.a > 6 {
			s.add(scCholesterolHigh)
		}
		if m.a == 6 {
			s.add(scCholesterolAt6)
		}
	case "smoking":
		if m.a == smokeCurrent {
			s.add(scSmoker)
		}
	case "alcohol":
		if m.a >= 5 {
			s.add(scAuditCPositive)
		}
		if m.a == 5 {
			s.add(scAuditCAt5)
		}
	}
}
