package healthcheck

import "github.com/carebridge/carebridge/adapter/sharedcare"

// Mode is how a component's window is counted (domain reference rule 1).
type Mode string

// The two window modes.
const (
	// Rolling counts the 12 months up to the reference date (the national
	// PHSMI statistic).
	Rolling Mode = "rolling"
	// QOF counts the QOF year, 1 April to 31 March, with 24 months for the
	// lipids of people at low risk (rule 2).
	QOF Mode = "qof"
)

// Status is a component's state at the reference date (rule 12).
type Status string

// The component statuses.
const (
	Done          Status = "done"
	Declined      Status = "declined"
	Outstanding   Status = "outstanding"
	DueSoon       Status = "due-soon"
	NotApplicable Status = "not-applicable"
)

// Performer says which sides did a component in its window.
type Performer string

// The performers.
const (
	ByPrimary   Performer = "primary"
	BySecondary Performer = "secondary"
	ByBoth      Performer = "both"
)

// Verdict is the health check of one person at one reference date.
type Verdict struct {
	NHSNumber string `json:"nhsNumber"`
	AsOf      Date   `json:"asOf"`
	// Practice is the registered GP practice (ODS code); Trusts the mental
	// health trusts caring for the person at the reference date: those with
	// an open episode, and those that recorded an SMI diagnosis. Reports
	// count the person under each.
	Practice    string             `json:"practice,omitempty"`
	Trusts      []string           `json:"trusts,omitempty"`
	Mode        Mode               `json:"mode"`
	Versions    Versions           `json:"versions"`
	Eligibility Eligibility        `json:"eligibility"`
	Components  []ComponentVerdict `json:"components"` // in sharedcare.Components order
	AllSixDone  bool               `json:"allSixDone"`
	Responsible Responsibility     `json:"responsible"`
	Abnormal    []Finding          `json:"abnormal,omitempty"`
	Tasks       []Task             `json:"tasks,omitempty"`
}

// Versions are the versions of the data a verdict was reached with.
type Versions struct {
	CodeSets string `json:"codeSets"`
	Rules    string `json:"rules"`
}

// Eligibility says whether the person is in the check's denominator (rule 8).
type Eligibility struct {
	OnRegister  bool   `json:"onRegister"`
	InRemission bool   `json:"inRemission"`
	Eligible    bool   `json:"eligible"`
	Reason      string `json:"reason,omitempty"` // why not eligible
	Since       Date   `json:"since,omitzero"`   // the latest SMI diagnosis on or before the date
}

// Reasons a person is not eligible.
const (
	NotOnRegister = "not-on-register"
	InRemission   = "in-remission"
	Deceased      = "deceased"
	UnderMinAge   = "under-minimum-age"
)

// ComponentVerdict is one component's status and the evidence for it.
type ComponentVerdict struct {
	Component sharedcare.Component `json:"component"`
	Status    Status               `json:"status"`
	Performer Performer            `json:"performer,omitempty"`
	LastDone  Date                 `json:"lastDone,omitzero"`
	// WindowStart is the earliest clinical date that counts at the
	// reference date; WindowEnd the last day the latest evidence counts.
	WindowStart Date                   `json:"windowStart"`
	WindowEnd   Date                   `json:"windowEnd,omitzero"`
	Evidence    []sharedcare.SourceRef `json:"evidence,omitempty"` // what counted, newest first
	Conflict    bool                   `json:"conflict,omitempty"` // same day, same concept, different values
}

// Finding is a result that needs follow-up (rule 15).
type Finding struct {
	Measure string               `json:"measure"`
	Value   float64              `json:"value,omitempty"`
	Date    Date                 `json:"date"`
	Source  sharedcare.SourceRef `json:"source"`
}

// The measures of abnormal findings.
const (
	HighBMI                 = "bmi-high"
	HighBloodPressure       = "blood-pressure-high"
	NonDiabeticHyperglycaem = "non-diabetic-hyperglycaemia"
	PossibleDiabetes        = "possible-diabetes"
	HighCholesterol         = "cholesterol-high"
	CurrentSmoker           = "current-smoker"
	AuditCPositive          = "audit-c-positive"
)

// Measures lists the measures of abnormal findings in report order.
var Measures = [...]string{
	HighBMI, HighBloodPressure, NonDiabeticHyperglycaem, PossibleDiabetes,
	HighCholesterol, CurrentSmoker, AuditCPositive,
}

// Responsibility is who does the check at the reference date (rule 13).
type Responsibility struct {
	Org       string          `json:"org,omitempty"` // ODS code; "" when not known
	Side      sharedcare.Side `json:"side"`
	Uncertain bool            `json:"uncertain,omitempty"` // no episode data
	Reason    string          `json:"reason"`
}

// TaskKind is why a Task should be open.
type TaskKind string

// The Task kinds.
const (
	MissingComponent TaskKind = "missing-component"
	AbnormalResult   TaskKind = "abnormal-result"
	WriteBack        TaskKind = "write-back"
)

// Task is a Task that should be open: the gateway keeps exactly one open
// Task per Key.
type Task struct {
	Kind      TaskKind             `json:"kind"`
	Key       string               `json:"key"` // the idempotency key
	Component sharedcare.Component `json:"component,omitempty"`
	Measure   string               `json:"measure,omitempty"`
	Owner     string               `json:"owner"` // ODS code
	// CycleStart is the start of the cycle the Task belongs to; PeriodEnd
	// the last day it can be met in that cycle.
	CycleStart Date                   `json:"cycleStart"`
	PeriodEnd  Date                   `json:"periodEnd,omitzero"`
	Evidence   []sharedcare.SourceRef `json:"evidence,omitempty"`
}
