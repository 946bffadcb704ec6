// Package sharedcare is CareBridge's shared-care model: what primary and
// secondary care know about a person on the serious mental illness (SMI)
// register, in one vocabulary whatever system said it. It holds plain Go
// types only: no FHIR, no database, no HTTP. Mapping profiles (package
// mappings) turn each source's FHIR into these facts; the health check
// (package healthcheck) reasons over them.
package sharedcare

// Side is which half of shared care a fact came from.
type Side string

// The two sides of shared care.
const (
	Primary   Side = "primary"   // GP practice
	Secondary Side = "secondary" // mental health trust
)

// Component is one of the six parts of the annual SMI physical health check.
type Component string

// The six components.
const (
	BMI           Component = "bmi"
	BloodPressure Component = "blood-pressure"
	Lipids        Component = "lipids"
	Glucose       Component = "glucose"
	Alcohol       Component = "alcohol"
	Smoking       Component = "smoking"
)

// Components lists the six components in report order.
var Components = [...]Component{BMI, BloodPressure, Lipids, Glucose, Alcohol, Smoking}

// DiagnosisCategory groups SMI diagnoses.
type DiagnosisCategory string

// SMI diagnosis categories (domain reference §1.5).
const (
	Schizophrenia       DiagnosisCategory = "schizophrenia"
	Schizoaffective     DiagnosisCategory = "schizoaffective"
	Bipolar             DiagnosisCategory = "bipolar"
	OtherPsychosis      DiagnosisCategory = "other-psychosis"
	PsychoticDepression DiagnosisCategory = "psychotic-depression"
)

// SourceRef names the stored resource version a fact was read from.
type SourceRef struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	VersionID int64  `json:"versionId"`
	Profile   string `json:"profile"` // the mapping profile that read it
}

// Person is one human being, identified by a verified NHS number. Two
// Patient resources with the same NHS number, from either side, are one
// Person.
type Person struct {
	NHSNumber  string      `json:"nhsNumber"`
	GPPractice string      `json:"gpPractice,omitempty"` // registered practice ODS code
	BirthDate  string      `json:"birthDate,omitempty"`  // FHIR date as sent
	DeathDate  string      `json:"deathDate,omitempty"`  // FHIR date or dateTime as sent
	Deceased   bool        `json:"deceased,omitempty"`
	Sources    []SourceRef `json:"sources"`
}

// RegisterEntry is an SMI diagnosis or a remission marker.
type RegisterEntry struct {
	Category  DiagnosisCategory `json:"category,omitempty"` // empty for remission markers
	Remission bool              `json:"remission,omitempty"`
	Concept   string            `json:"concept"` // SNOMED CT
	Date      string            `json:"date"`    // clinical date (onset or recorded)
	Side      Side              `json:"side"`
	Org       string            `json:"org,omitempty"` // ODS code of the recording organisation
	Source    SourceRef         `json:"source,omitzero"`
}

// Episode is a period of care by a secondary mental health service.
type Episode struct {
	Trust             string    `json:"trust,omitempty"` // ODS code
	Team              string    `json:"team,omitempty"`
	Start             string    `json:"start,omitempty"`
	End               string    `json:"end,omitempty"` // empty while open
	Inpatient         bool      `json:"inpatient,omitempty"`
	EarlyIntervention bool      `json:"earlyIntervention,omitempty"`
	Stabilised        bool      `json:"stabilised,omitempty"`
	KeyWorker         string    `json:"keyWorker,omitempty"` // reference or identifier as sent
	Source            SourceRef `json:"source,omitzero"`
}

// Referral is a ServiceRequest between the sides.
type Referral struct {
	From     string `json:"from,omitempty"` // ODS code
	To       string `json:"to,omitempty"`   // ODS code
	Reason   string `json:"reason,omitempty"`
	Priority string `json:"priority,omitempty"` // routine | urgent | asap | stat
	Status   string `json:"status"`
	// ReReferral is an urgent referral from primary back to secondary care.
	ReReferral bool      `json:"reReferral,omitempty"`
	Authored   string    `json:"authored,omitempty"`
	Source     SourceRef `json:"source,omitzero"`
}

// CarePlan is a shared care plan.
type CarePlan struct {
	Status     string    `json:"status"`
	Owners     []string  `json:"owners,omitempty"` // ODS codes
	ReviewDate string    `json:"reviewDate,omitempty"`
	Start      string    `json:"start,omitempty"`
	Source     SourceRef `json:"source,omitzero"`
}

// Evidence is one result or record that can satisfy a health check component.
type Evidence struct {
	Component Component `json:"component"`
	Concept   string    `json:"concept"`         // SNOMED CT, after translation
	Value     *float64  `json:"value,omitempty"` // in Unit
	Unit      string    `json:"unit,omitempty"`  // UCUM
	Text      string    `json:"text,omitempty"`  // a coded answer (smoking status...)
	Date      string    `json:"date"`            // clinical date as sent
	Status    string    `json:"status"`          // FHIR status as sent
	Side      Side      `json:"side"`
	Performer string    `json:"performer,omitempty"` // ODS code
	Converted bool      `json:"converted,omitempty"` // the value was converted from another unit
	Source    SourceRef `json:"source,omitzero"`
}

// Decline is a patient's decline of, or unsuitability for, a component.
type Decline struct {
	Component  Component `json:"component"`
	Concept    string    `json:"concept"`
	Unsuitable bool      `json:"unsuitable,omitempty"`
	Date       string    `json:"date"`
	Side       Side      `json:"side"`
	Source     SourceRef `json:"source,omitzero"`
}

// WorkItem is a Task as the shared-care model sees it.
type WorkItem struct {
	Status         string    `json:"status"`
	BusinessStatus string    `json:"businessStatus,omitempty"`
	Code           string    `json:"code,omitempty"`
	Owner          string    `json:"owner,omitempty"`     // ODS code
	Requester      string    `json:"requester,omitempty"` // ODS code
	Due            string    `json:"due,omitempty"`
	Source         SourceRef `json:"source,omitzero"`
}

// Unmapped is something a profile could not map: kept, flagged and reported,
// never dropped.
type Unmapped struct {
	Profile    string `json:"profile"`
	What       string `json:"what"` // code | unit | identifier | reference
	System     string `json:"system,omitempty"`
	Code       string `json:"code"`
	Expression string `json:"expression"` // where in the resource
	Reason     string `json:"reason"`
}

// Facts is what one resource says in the shared-care model. A resource says
// at most a few of these; most fields are empty.
type Facts struct {
	// NHSNumber is the person the facts are about, when known.
	NHSNumber string `json:"nhsNumber,omitempty"`
	// PatientRef is the Patient id the resource references literally, when
	// it does: the person is known once that Patient is.
	PatientRef string `json:"patientRef,omitempty"`
	// Org is an Organization's ODS code.
	Org string `json:"org,omitempty"`
	// Side is the side of the source that sent the resource.
	Side      Side            `json:"side"`
	Person    *Person         `json:"person,omitempty"`
	Register  []RegisterEntry `json:"register,omitempty"`
	Episodes  []Episode       `json:"episodes,omitempty"`
	Referrals []Referral      `json:"referrals,omitempty"`
	CarePlans []CarePlan      `json:"carePlans,omitempty"`
	Evidence  []Evidence      `json:"evidence,omitempty"`
	Declines  []Decline       `json:"declines,omitempty"`
	WorkItems []WorkItem      `json:"workItems,omitempty"`
	Unmapped  []Unmapped      `json:"unmapped,omitempty"`
}

// Record is everything known about one person, from both sides.
type Record struct {
	Person    Person          `json:"person"`
	Register  []RegisterEntry `json:"register,omitempty"`
	Episodes  []Episode       `json:"episodes,omitempty"`
	Referrals []Referral      `json:"referrals,omitempty"`
	CarePlans []CarePlan      `json:"carePlans,omitempty"`
	Evidence  []Evidence      `json:"evidence,omitempty"`
	Declines  []Decline       `json:"declines,omitempty"`
	WorkItems []WorkItem      `json:"workItems,omitempty"`
}

// SourceRefs returns a pointer to every SourceRef in the facts: those of
// the Person, then each item's. A store that keeps the facts of one resource
// beside that resource's name can leave out the references that repeat it.
func (f *Facts) SourceRefs() []*SourceRef {
	var out []*SourceRef
	if f.Person != nil {
		for i := range f.Person.Sources {
			out = append(out, &f.Person.Sources[i])
		}
	}
	for i := range f.Register {
		out = append(out, &f.Register[i].Source)
	}
	for i := range f.Episodes {
		out = append(out, &f.Episodes[i].Source)
	}
	for i := range f.Referrals {
		out = append(out, &f.Referrals[i].Source)
	}
	for i := range f.CarePlans {
		out = append(out, &f.CarePlans[i].Source)
	}
	for i := range f.Evidence {
		out = append(out, &f.Evidence[i].Source)
	}
	for i := range f.Declines {
		out = append(out, &f.Declines[i].Source)
	}
	for i := range f.WorkItems {
		out = append(out, &f.WorkItems[i].Source)
	}
	return out
}

// Empty reports whether the facts say nothing a record or a report could
// use: no person, organisation, item or unmapped part. Who they would be
// about (NHSNumber, PatientRef) and the Side do not count.
func (f *Facts) Empty() bool {
	return f.Org == "" && f.Person == nil && len(f.Register) == 0 && len(f.Episodes) == 0 &&
		len(f.Referrals) == 0 && len(f.CarePlans) == 0 && len(f.Evidence) == 0 &&
		len(f.Declines) == 0 && len(f.WorkItems) == 0 && len(f.Unmapped) == 0
}
