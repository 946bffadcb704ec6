package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// orgInfo is a configured organisation with its dialect.
type orgInfo struct {
	Org
	d          dialect
	patientSys string // local identifier systems, for dialects without literal references
	recordSys  string
	announced  bool // its Organization resource has been sent
}

func newOrgInfo(o Org) *orgInfo {
	d, _ := dialectOf(o.Profile)
	base := "https://" + strings.ToLower(o.ODS) + ".example.nhs.uk/Id/"
	if o.Name == "" {
		o.Name = "Synthetic organisation " + o.ODS
	}
	return &orgInfo{Org: o, d: d, patientSys: base + "patient", recordSys: base + "record"}
}

// idGen makes the stable resource ids of one person on one side: re-sending
// the same seed updates the same resources instead of adding new ones.
type idGen struct{ pcg rand.PCG }

// next returns a random (version 4) UUID, as text.
func (g *idGen) next() string {
	const hex = "0123456789abcdef"
	hi, lo := g.pcg.Uint64(), g.pcg.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [36]byte
	pos := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[pos] = '-'
			pos++
		}
		v := hi
		if i >= 8 {
			v = lo
		}
		octet := byte(v >> (56 - 8*(i%8)))
		b[pos], b[pos+1] = hex[octet>>4], hex[octet&0xf]
		pos += 2
	}
	return string(b[:])
}

// sideWriter writes one person's resources from one organisation into a
// Bundle being built.
type sideWriter struct {
	w          *jsonWriter
	o          *orgInfo
	p          *person
	ids        idGen
	patientURL string // the Patient entry's fullUrl, for literal references
	entries    int
}

// begin opens an entry for a new resource of type typ, up to its meta, and
// returns the resource's id. Literal dialects PUT to a stable id under a
// urn:uuid fullUrl; the others conditionally create on a local record
// identifier.
func (s *sideWriter) begin(typ string) string {
	id := s.ids.next()
	w := s.w
	w.object("")
	if s.o.d.refs == literalRefs {
		w.str("fullUrl", "urn:uuid:"+id)
	}
	w.object("resource")
	w.str("resourceType", typ)
	if s.o.d.refs == literalRefs {
		w.str("id", id)
	}
	w.object("meta")
	if typ == "Patient" && s.o.d.ukCore {
		w.array("profile")
		w.str("", "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
		w.endArray()
	}
	w.str("source", s.o.Source)
	w.endObject()
	if s.o.d.refs == nhsNumberRefs && typ != "Patient" {
		w.array("identifier")
		identifier(w, s.o.recordSys, id)
		w.endArray()
	}
	return id
}

// end closes the resource and writes its request.
func (s *sideWriter) end(typ, id string) {
	w := s.w
	w.endObject()
	w.object("request")
	if s.o.d.refs == literalRefs {
		w.str("method", "PUT")
		w.str("url", typ+"/"+id)
	} else {
		sys := s.o.recordSys
		if typ == "Patient" {
			sys = s.o.patientSys
		}
		w.str("method", "POST")
		w.str("url", typ)
		w.str("ifNoneExist", "identifier="+sys+"|"+id)
	}
	w.endObject()
	w.endObject()
	s.entries++
}

func identifier(w *jsonWriter, system, value string) {
	w.object("")
	w.str("system", system)
	w.str("value", value)
	w.endObject()
}

// orgRef writes a Reference to an organisation by ODS code, as a member k,
// or as an array item when k is empty.
func orgRef(w *jsonWriter, k, ods string) {
	w.object(k)
	w.object("identifier")
	w.str("system", sysODS)
	w.str("value", ods)
	w.endObject()
	w.endObject()
}

// subject writes the reference to the person, the dialect's way.
func (s *sideWriter) subject(k string) {
	w := s.w
	w.object(k)
	if s.o.d.refs == literalRefs {
		w.str("reference", s.patientURL)
	} else {
		w.object("identifier")
		w.str("system", sysNHSNumber)
		w.str("value", s.p.nhs)
		w.endObject()
	}
	w.endObject()
}

func codeable(w *jsonWriter, k string, cs ...coding) {
	w.object(k)
	w.array("coding")
	for _, c := range cs {
		w.object("")
		w.str("system", c.system)
		w.str("code", c.code)
		if c.display != "" {
			w.str("display", c.display)
		}
		w.endObject()
	}
	w.endArray()
	w.endObject()
}

func codeableList(w *jsonWriter, k string, cs ...coding) {
	w.array(k)
	for _, c := range cs {
		codeable(w, "", c)
	}
	w.endArray()
}

func textConcept(w *jsonWriter, k, text string) {
	w.object(k)
	w.str("text", text)
	w.endObject()
}

// organization announces the sender, once: a conditional create on its ODS
// code, so that it is never made twice.
func (s *sideWriter) organization() {
	if s.o.announced {
		return
	}
	s.o.announced = true
	w := s.w
	w.object("")
	w.object("resource")
	w.str("resourceType", "Organization")
	w.object("meta")
	w.str("source", s.o.Source)
	w.endObject()
	w.array("identifier")
	identifier(w, sysODS, s.o.ODS)
	w.endArray()
	w.boolean("active", true)
	w.str("name", s.o.Name)
	w.endObject()
	w.object("request")
	w.str("method", "POST")
	w.str("url", "Organization")
	w.str("ifNoneExist", "identifier="+sysODS+"|"+s.o.ODS)
	w.endObject()
	w.endObject()
	s.entries++
}

// patient writes the person as this side knows them.
func (s *sideWriter) patient(practiceODS string, knowsDeath bool) {
	p, w := s.p, s.w
	id := s.begin("Patient")
	s.patientURL = "urn:uuid:" + id
	w.array("identifier")
	identifier(w, sysNHSNumber, p.nhs)
	if s.o.d.refs == nhsNumberRefs {
		identifier(w, s.o.patientSys, id)
	}
	w.endArray()
	w.array("name")
	w.object("")
	w.str("use", "official")
	w.str("family", p.family)
	w.array("given")
	w.str("", p.given)
	w.endArray()
	w.endObject()
	w.endArray()
	w.str("gender", p.gender)
	dateMember(w, "birthDate", p.birth)
	if p.died != 0 && knowsDeath {
		dateTimeMember(w, "deceasedDateTime", p.died, 300)
	}
	w.array("generalPractitioner")
	orgRef(w, "", practiceODS)
	w.endArray()
	if s.o.d.side == SideSecondary {
		orgRef(w, "managingOrganization", s.o.ODS)
	}
	s.end("Patient", id)
}

// condition writes the SMI diagnosis; a trust marks remission with the
// clinical status (MHREM_COD codes are not in the code sets).
func (s *sideWriter) condition(onset, remitted day) {
	p, w := s.p, s.w
	id := s.begin("Condition")
	status := "active"
	if remitted != 0 {
		status = "remission"
	}
	codeable(w, "clinicalStatus", coding{sysClinical, status, ""})
	codeable(w, "verificationStatus", coding{sysVerStatus, "confirmed", ""})
	codeableList(w, "category", coding{sysCondCat, "problem-list-item", "Problem List Item"})
	dx := diagnoses[p.cat].snomed[p.dx]
	if s.o.d.icd10 {
		list := diagnoses[p.cat].icd10
		dx = list[p.dx%len(list)]
	}
	codeable(w, "code", dx)
	s.subject("subject")
	dateMember(w, "onsetDateTime", onset)
	if remitted != 0 {
		dateMember(w, "abatementDateTime", remitted)
	}
	dateMember(w, "recordedDate", onset)
	s.end("Condition", id)
}

// episode writes the trust's episode of care, the dialect's way.
func (s *sideWriter) episode() {
	p, w := s.p, s.w
	team := "Community Mental Health Team"
	switch p.episode {
	case epEarly:
		team = "Early Intervention in Psychosis Team"
	case epInpatient:
		team = "Acute Inpatient Ward"
	}
	switch s.o.d.episodes {
	case episodeOfCare:
		id := s.begin("EpisodeOfCare")
		w.str("status", p.episodeStatus("finished", "active"))
		var kind string
		switch p.episode {
		case epEarly:
			kind = "early-intervention"
		case epInpatient:
			kind = "inpatient"
		case epStabilised:
			kind = "stabilised"
		}
		if kind != "" {
			codeableList(w, "type", coding{sysEpisodeType, kind, ""})
		}
		s.subject("patient")
		orgRef(w, "managingOrganization", s.o.ODS)
		s.period(p.epStart, p.epEnd)
		w.array("team")
		w.object("")
		w.str("display", team)
		w.endObject()
		w.endArray()
		s.end("EpisodeOfCare", id)
	case carePlanCategories:
		id := s.begin("CarePlan")
		w.str("status", p.episodeStatus("completed", "active"))
		w.str("intent", "plan")
		setting := "COMMUNITY"
		switch p.episode {
		case epEarly:
			setting = "EIP"
		case epInpatient:
			setting = "WARD"
		}
		w.array("category")
		codeable(w, "", coding{sysLocalSetting, setting, ""})
		if p.episode == epStabilised {
			codeable(w, "", coding{sysLocalSetting, "STABLE", ""})
		}
		w.endArray()
		w.str("title", team+" episode")
		s.subject("subject")
		s.period(p.epStart, p.epEnd)
		orgRef(w, "author", s.o.ODS)
		s.end("CarePlan", id)
	}
}

// episodeStatus is ended when the episode has ended, open while it runs.
func (p *person) episodeStatus(ended, open string) string {
	if p.epEnd != 0 {
		return ended
	}
	return open
}

func (s *sideWriter) period(start, end day) {
	w := s.w
	w.object("period")
	dateMember(w, "start", start)
	if end != 0 {
		dateMember(w, "end", end)
	}
	w.endObject()
}

// observationHead opens an Observation and writes what every result has.
func (s *sideWriter) observationHead(cat string, code coding, d day, minute int) string {
	w := s.w
	id := s.begin("Observation")
	w.str("status", "final")
	if cat != "" {
		codeableList(w, "category", coding{sysObsCategory, cat, ""})
	}
	codeable(w, "code", code)
	s.subject("subject")
	dateTimeMember(w, "effectiveDateTime", d, minute)
	w.array("performer")
	orgRef(w, "", s.o.ODS)
	w.endArray()
	return id
}

// quantity writes a valueQuantity in UCUM, or with the unit as free text
// (no system), as some systems do; the profiles' unit rules read both.
func quantity(w *jsonWriter, k string, v float64, prec int, unit, ucum string, asText bool) {
	w.object(k)
	w.num("value", v, prec)
	w.str("unit", unit)
	if !asText {
		w.str("system", sysUCUM)
		w.str("code", ucum)
	}
	w.endObject()
}

// observation writes one reading, in the dialect's codes and units.
func (s *sideWriter) observation(rd reading) {
	d, w := &s.o.d, s.w
	textUnit := d.unitSpellings && rd.minute%3 == 0
	switch rd.comp {
	case cBMI:
		id := s.observationHead("vital-signs", d.bmi, rd.day, rd.minute)
		if textUnit {
			quantity(w, "valueQuantity", rd.a, 1, "kg/m^2", "", true)
		} else {
			quantity(w, "valueQuantity", rd.a, 1, "kg/m2", "kg/m2", false)
		}
		s.end("Observation", id)
	case cBP:
		mmHg := func(k string, v float64) { quantity(w, k, v, 0, "mmHg", "mm[Hg]", d.mmHgText || textUnit) }
		if rd.split {
			for _, part := range []struct {
				code coding
				v    float64
			}{{d.bpSys, rd.a}, {d.bpDia, rd.b}} {
				id := s.observationHead("vital-signs", part.code, rd.day, rd.minute)
				mmHg("valueQuantity", part.v)
				s.end("Observation", id)
			}
			return
		}
		id := s.observationHead("vital-signs", d.bpPanel, rd.day, rd.minute)
		w.array("component")
		for _, part := range []struct {
			code coding
			v    float64
		}{{d.bpSys, rd.a}, {d.bpDia, rd.b}} {
			w.object("")
			codeable(w, "code", part.code)
			mmHg("valueQuantity", part.v)
			w.endObject()
		}
		w.endArray()
		s.end("Observation", id)
	case cLipids:
		if d.cholMgPerDL {
			s.laboratory(rd, d.chol, cholesterolMgPerDL(rd.a), 0, "mg/dL")
		} else {
			s.laboratory(rd, d.chol, rd.a, 1, "mmol/L")
		}
	case cGlucose:
		switch {
		case rd.kind == glucoseFasting:
			s.laboratory(rd, codeFastingGlucose, rd.a, 1, "mmol/L")
		case d.hba1cPercent:
			s.laboratory(rd, d.hba1c, hba1cPercent(rd.a), 2, "%")
		default:
			s.laboratory(rd, d.hba1c, rd.a, 0, "mmol/mol")
		}
	case cAlcohol:
		if rd.kind == alcoholFinding {
			id := s.observationHead("social-history", alcoholFindings[rd.pick], rd.day, rd.minute)
			s.end("Observation", id)
			return
		}
		id := s.observationHead("survey", d.auditC, rd.day, rd.minute)
		w.integer("valueInteger", int(rd.a))
		s.end("Observation", id)
	case cSmoking:
		status := smokingStatus(rd, d)
		if d.smokingAnswer {
			id := s.observationHead("social-history", tobaccoSmokingStatus, rd.day, rd.minute)
			codeable(w, "valueCodeableConcept", status)
			s.end("Observation", id)
			return
		}
		id := s.observationHead("social-history", status, rd.day, rd.minute)
		s.end("Observation", id)
	}
}

// laboratory writes a blood test result with its value in a UCUM unit.
func (s *sideWriter) laboratory(rd reading, code coding, v float64, prec int, ucum string) {
	id := s.observationHead("laboratory", code, rd.day, rd.minute)
	quantity(s.w, "valueQuantity", v, prec, ucum, ucum, false)
	s.end("Observation", id)
}

// smokingStatus is the code a dialect records a smoking status with.
func smokingStatus(rd reading, d *dialect) coding {
	switch rd.kind {
	case smokeCurrent:
		if d.localSmoking {
			return local("SMOKER", "Current smoker")
		}
		return smokingCurrent[rd.pick]
	case smokeNever:
		if d.localSmoking {
			return local("NEVERSMOKED", "Never smoked")
		}
		return smokingNever
	}
	return smokingEx
}

// bpDeclined writes a declined blood pressure procedure (BPDEC_COD).
func (s *sideWriter) bpDeclined(d day) {
	id := s.observationHead("", codeBPDeclined, d, 600)
	s.end("Observation", id)
}

// request opens a ServiceRequest or Task: an order with its status,
// priority and what it asks for, as text.
func (s *sideWriter) request(typ, status, priority, what string) string {
	w := s.w
	id := s.begin(typ)
	w.str("status", status)
	w.str("intent", "order")
	w.str("priority", priority)
	textConcept(w, "code", what)
	return id
}

// referral writes a GP's referral of the person to the trust: urgent when
// the person was under the trust before.
func (s *sideWriter) referral(trustODS string) {
	p, w := s.p, s.w
	priority := "routine"
	if p.episode == epDischarged || p.episode == epStabilised {
		priority = "urgent"
	}
	id := s.request("ServiceRequest", "active", priority, "Referral to community mental health team")
	s.subject("subject")
	dateTimeMember(w, "authoredOn", p.referral, 660)
	orgRef(w, "requester", s.o.ODS)
	w.array("performer")
	orgRef(w, "", trustODS)
	w.endArray()
	codeableList(w, "reasonCode", diagnoses[p.cat].snomed[p.dx])
	s.end("ServiceRequest", id)
}

// task writes a trust's request to the GP to do a component of the check.
func (s *sideWriter) task(practiceODS string) {
	p, w := s.p, s.w
	id := s.request("Task", "requested", "routine", "SMI physical health check: "+p.taskComp.String()+" outstanding")
	s.subject("for")
	dateTimeMember(w, "authoredOn", p.task, 570)
	orgRef(w, "requester", s.o.ODS)
	orgRef(w, "owner", practiceODS)
	s.end("Task", id)
}

// carePlan writes a GP's mental health care plan, reviewed yearly.
func (s *sideWriter) carePlan() {
	p, w := s.p, s.w
	id := s.begin("CarePlan")
	w.str("status", "active")
	w.str("intent", "plan")
	w.str("title", "Mental health care plan")
	s.subject("subject")
	s.period(p.carePlan, p.carePlan+365)
	orgRef(w, "author", s.o.ODS)
	s.end("CarePlan", id)
}

// dateMember writes a FHIR date.
func dateMember(w *jsonWriter, k string, d day) {
	w.key(k)
	w.sep()
	w.b = append(w.b, '"')
	w.b = appendDate(w.b, d)
	w.b = append(w.b, '"')
}

// dateTimeMember writes a FHIR dateTime at minute past midnight, UK time
// (BST from the last Sunday of March to the last Sunday of October).
func dateTimeMember(w *jsonWriter, k string, d day, minute int) {
	w.key(k)
	w.sep()
	w.b = append(w.b, '"')
	w.b = appendDate(w.b, d)
	w.b = append(w.b, 'T')
	w.b = append2(w.b, minute/60)
	w.b = append(w.b, ':')
	w.b = append2(w.b, minute%60)
	if summerTime(d) {
		w.b = append(w.b, ":00+01:00\""...)
	} else {
		w.b = append(w.b, ":00+00:00\""...)
	}
}

func appendDate(b []byte, d day) []byte {
	y, m, dd := d.time().Date()
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	return append2(b, dd)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// summerTime reports whether British Summer Time applies on d's daytime.
func summerTime(d day) bool {
	y := d.time().Year()
	return d >= lastSunday(y, time.March) && d < lastSunday(y, time.October)
}

func lastSunday(y int, m time.Month) day {
	last := dayOf(time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC))
	return last - day(last.time().Weekday())
}
