package checkfhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// TaskState is a stored Task that belongs to a verdict, as it stands: the
// gateway keeps one open Task per healthcheck.Task key.
type TaskState struct {
	ID             string               // the Task's resource id
	Status         string               // FHIR task-status
	BusinessStatus string               // "" when none
	Kind           healthcheck.TaskKind // why it was raised
	Key            string               // the idempotency key it was raised under; not rendered
	Component      sharedcare.Component // for missing-component and write-back Tasks
	Measure        string               // for abnormal-result Tasks
	Owner          string               // ODS code
	Due            healthcheck.Date     // the last day it can be met; zero when none
}

// HealthCheckParameters returns the JSON of the Parameters resource that
// answers GET /fhir/Patient/{id}/$health-check: the whole verdict v, so a
// clinician's system can show, for example, that a component was done by
// the trust on 3 May and is not yet in the GP record (performer
// "secondary", lastDone), and the stored Tasks of the person.
//
// The parameters, in order: nhsNumber (valueIdentifier), asOf (valueDate),
// mode (valueCode), practice and one trust per trust (valueIdentifier, ODS),
// versions (parts codeSets, rules), eligibility (parts onRegister,
// inRemission, eligible, reason, since), responsible (parts organization,
// side, uncertain, reason), allSixDone, one component per component (parts
// code, status, performer, lastDone, windowStart, windowEnd, conflict, and
// one evidence valueReference Type/id/_history/version per item), one
// abnormal per finding (parts measure, value, date, source) and one task
// per entry of tasks, in their order (parts reference, status,
// businessStatus, kind, component, measure, owner, due). What a verdict
// does not know is left out, never sent empty; a finding's value of 0 is
// taken as no value, as in healthcheck.Finding. Each parameter has exactly
// one value[x] or parts.
func HealthCheckParameters(v healthcheck.Verdict, tasks []TaskState) ([]byte, error) {
	out, err := healthCheckParameters(v, tasks)
	if err != nil {
		return nil, fmt.Errorf("health check parameters: %w", err)
	}
	return out, nil
}

type parametersJSON struct {
	ResourceType string      `json:"resourceType"`
	Parameter    []parameter `json:"parameter"`
}

// parameter is Parameters.parameter; its constructors (the methods of
// params) set exactly one value[x] or part.
type parameter struct {
	Name            string      `json:"name"`
	ValueBoolean    *bool       `json:"valueBoolean,omitempty"`
	ValueCode       string      `json:"valueCode,omitempty"`
	ValueDate       string      `json:"valueDate,omitempty"`
	ValueDecimal    json.Number `json:"valueDecimal,omitempty"`
	ValueIdentifier *identifier `json:"valueIdentifier,omitempty"`
	ValueReference  *reference  `json:"valueReference,omitempty"`
	ValueString     string      `json:"valueString,omitempty"`
	Part            []parameter `json:"part,omitempty"`
}

// params builds a list of parameters, leaving out empty values and keeping
// the first error.
type params struct {
	list []parameter
	err  error
}

func (p *params) fail(name string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %w", name, err)
	}
}

func (p *params) boolean(name string, b bool) {
	p.list = append(p.list, parameter{Name: name, ValueBoolean: &b})
}

func (p *params) code(name, c string) {
	if c == "" {
		return
	}
	if err := checkCode("value", c); err != nil {
		p.fail(name, err)
		return
	}
	p.list = append(p.list, parameter{Name: name, ValueCode: c})
}

func (p *params) date(name string, d healthcheck.Date) {
	if !d.IsZero() {
		p.list = append(p.list, parameter{Name: name, ValueDate: d.String()})
	}
}

func (p *params) decimal(name string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(name, fmt.Errorf("%v is not a decimal", f))
		return
	}
	p.list = append(p.list, parameter{Name: name, ValueDecimal: json.Number(strconv.FormatFloat(f, 'f', -1, 64))})
}

func (p *params) ident(name, system, value string) {
	if value == "" {
		return
	}
	if err := checkString("value", value); err != nil {
		p.fail(name, err)
		return
	}
	p.list = append(p.list, parameter{Name: name, ValueIdentifier: &identifier{System: system, Value: value}})
}

func (p *params) ref(name, ref string) {
	p.list = append(p.list, parameter{Name: name, ValueReference: &reference{Reference: ref}})
}

func (p *params) source(name string, r sharedcare.SourceRef) {
	ref, err := sourceReference(r)
	if err != nil {
		p.fail(name, err)
		return
	}
	p.ref(name, ref)
}

func (p *params) text(name, s string) {
	if s == "" {
		return
	}
	if err := checkString("value", s); err != nil {
		p.fail(name, err)
		return
	}
	p.list = append(p.list, parameter{Name: name, ValueString: s})
}

// part adds a parameter made of sub's parameters, if it has any.
func (p *params) part(name string, sub *params) {
	if sub.err != nil {
		p.fail(name, sub.err)
		return
	}
	if len(sub.list) > 0 {
		p.list = append(p.list, parameter{Name: name, Part: sub.list})
	}
}

func healthCheckParameters(v healthcheck.Verdict, tasks []TaskState) ([]byte, error) {
	switch {
	case v.NHSNumber == "":
		return nil, errors.New("the verdict has no NHS number")
	case v.AsOf.IsZero():
		return nil, errors.New("the verdict has no reference date")
	}
	var p params
	p.ident("nhsNumber", SystemNHSNumber, v.NHSNumber)
	p.date("asOf", v.AsOf)
	p.code("mode", string(v.Mode))
	p.ident("practice", SystemODS, v.Practice)
	for _, trust := range v.Trusts {
		p.ident("trust", SystemODS, trust)
	}

	var versions params
	versions.text("codeSets", v.Versions.CodeSets)
	versions.text("rules", v.Versions.Rules)
	p.part("versions", &versions)

	var el params
	el.boolean("onRegister", v.Eligibility.OnRegister)
	el.boolean("inRemission", v.Eligibility.InRemission)
	el.boolean("eligible", v.Eligibility.Eligible)
	el.code("reason", v.Eligibility.Reason)
	el.date("since", v.Eligibility.Since)
	p.part("eligibility", &el)

	var resp params
	resp.ident("organization", SystemODS, v.Responsible.Org)
	resp.code("side", string(v.Responsible.Side))
	resp.boolean("uncertain", v.Responsible.Uncertain)
	resp.text("reason", v.Responsible.Reason)
	p.part("responsible", &resp)

	p.boolean("allSixDone", v.AllSixDone)

	for _, cv := range v.Components {
		var c params
		c.code("code", string(cv.Component))
		c.code("status", string(cv.Status))
		c.code("performer", string(cv.Performer))
		c.date("lastDone", cv.LastDone)
		c.date("windowStart", cv.WindowStart)
		c.date("windowEnd", cv.WindowEnd)
		c.boolean("conflict", cv.Conflict)
		for _, ev := range cv.Evidence {
			c.source("evidence", ev)
		}
		p.part("component", &c)
	}

	for _, f := range v.Abnormal {
		var a params
		a.code("measure", f.Measure)
		if f.Value != 0 {
			a.decimal("value", f.Value)
		}
		a.date("date", f.Date)
		a.source("source", f.Source)
		p.part("abnormal", &a)
	}

	for _, t := range tasks {
		if !isID(t.ID) {
			return nil, fmt.Errorf("task id %q is not a FHIR id", t.ID)
		}
		var tp params
		tp.ref("reference", "Task/"+t.ID)
		tp.code("status", t.Status)
		tp.text("businessStatus", t.BusinessStatus)
		tp.code("kind", string(t.Kind))
		tp.code("component", string(t.Component))
		tp.code("measure", t.Measure)
		tp.ident("owner", SystemODS, t.Owner)
		tp.date("due", t.Due)
		p.part("task", &tp)
	}
	if p.err != nil {
		return nil, p.err
	}
	return encode(parametersJSON{ResourceType: "Parameters", Parameter: p.list})
}
