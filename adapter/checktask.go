package adapter

import (
	"fmt"
	"strings"
	"time"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// The Tasks the gateway raises for the annual health check are written
// here, element by element, as FHIR R4 JSON: not through the samply
// structs, whose Task.input and Task.output would carry every value[x].

// Identifier and code systems of health check Tasks. The business status
// CodeSystem is CareBridge's own (domain reference section 6.5).
const (
	// TaskSource is the meta.source of the Tasks the gateway raises. No
	// mapping profile reads it: the gateway's own Tasks are not facts.
	TaskSource = taskflow.GatewaySource
	// TaskKeySystem is the identifier system of a Task's idempotency key.
	TaskKeySystem      = "https://carebridge.example/Id/smi-health-check-task"
	taskKindSystem     = "https://carebridge.example/CodeSystem/smi-health-check-task"
	taskBusinessSystem = "https://carebridge.example/CodeSystem/smi-task-business-status"
	taskInputSystem    = "https://carebridge.example/CodeSystem/smi-health-check-task-input"
	componentSystem    = "https://carebridge.example/CodeSystem/smi-health-check-component"
	measureSystem      = "https://carebridge.example/CodeSystem/smi-health-check-finding"
	nhsNumberSystem    = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem          = "https://fhir.nhs.uk/Id/ods-organization-code"
)

// openBusinessStatus is the business status of a newly raised Task, by kind.
var openBusinessStatus = map[healthcheck.TaskKind]string{
	healthcheck.MissingComponent: "component-missing",
	healthcheck.AbnormalResult:   "result-needs-follow-up",
	healthcheck.WriteBack:        "not-in-gp-record",
}

// componentNames are the components as people say them.
var componentNames = map[sharedcare.Component]string{
	sharedcare.BMI: "BMI", sharedcare.BloodPressure: "blood pressure", sharedcare.Lipids: "lipids",
	sharedcare.Glucose: "glucose or HbA1c", sharedcare.Alcohol: "alcohol intake", sharedcare.Smoking: "smoking status",
}

// taskText returns the Task's code display and description.
func taskText(t healthcheck.Task) (string, string) {
	switch t.Kind {
	case healthcheck.MissingComponent:
		return "SMI physical health check: component outstanding",
			fmt.Sprintf("SMI physical health check: %s outstanding; due by %s", componentNames[t.Component], t.PeriodEnd)
	case healthcheck.WriteBack:
		return "SMI physical health check: record the trust's result in the GP record",
			fmt.Sprintf("SMI physical health check: %s done by the mental health trust on %s is not yet in the GP record", componentNames[t.Component], t.CycleStart)
	default:
		return "SMI physical health check: result needs follow-up",
			fmt.Sprintf("SMI physical health check: follow up %s (%s)", strings.ReplaceAll(t.Measure, "-", " "), t.CycleStart)
	}
}

func coding(system, code, display string) fhir.Value {
	m := []fhir.Member{{Name: "system", Value: fhir.String(system)}, {Name: "code", Value: fhir.String(code)}}
	if display != "" {
		m = append(m, fhir.Member{Name: "display", Value: fhir.String(display)})
	}
	return fhir.Object(m...)
}

func concept(system, code, display string) fhir.Value {
	return fhir.Object(fhir.Member{Name: "coding", Value: fhir.Array(coding(system, code, display))})
}

func identifierRef(typ, system, value string) fhir.Value {
	return fhir.Object(
		fhir.Member{Name: "type", Value: fhir.String(typ)},
		fhir.Member{Name: "identifier", Value: fhir.Object(
			fhir.Member{Name: "system", Value: fhir.String(system)},
			fhir.Member{Name: "value", Value: fhir.String(value)},
		)},
	)
}

func sourceRef(s sharedcare.SourceRef) fhir.Value {
	return fhir.Object(fhir.Member{Name: "reference", Value: fhir.String(fmt.Sprintf("%s/%s/_history/%d", s.Type, s.ID, s.VersionID))})
}

// evidenceParams returns Task.input or Task.output entries, one per
// evidence item, each with exactly one value[x].
func evidenceParams(evidence []sharedcare.SourceRef) []fhir.Value {
	out := make([]fhir.Value, 0, len(evidence))
	for _, s := range evidence {
		out = append(out, fhir.Object(
			fhir.Member{Name: "type", Value: concept(taskInputSystem, "evidence", "Evidence")},
			fhir.Member{Name: "valueReference", Value: sourceRef(s)},
		))
	}
	return out
}

// newTaskResource returns the FHIR Task for t, a Task verdict v wants, as
// raised at now. id and meta are stamped by the caller.
func newTaskResource(t healthcheck.Task, nhsNumber string, now time.Time) fhir.Value {
	display, description := taskText(t)
	at := fhir.String(fhir.FormatInstant(now))
	members := []fhir.Member{
		{Name: "resourceType", Value: fhir.String("Task")},
		{Name: "meta", Value: fhir.Object(fhir.Member{Name: "source", Value: fhir.String(TaskSource)})},
		{Name: "identifier", Value: fhir.Array(fhir.Object(
			fhir.Member{Name: "system", Value: fhir.String(TaskKeySystem)},
			fhir.Member{Name: "value", Value: fhir.String(t.Key)},
		))},
		{Name: "status", Value: fhir.String("requested")},
		{Name: "businessStatus", Value: concept(taskBusinessSystem, openBusinessStatus[t.Kind], "")},
		{Name: "intent", Value: fhir.String("order")},
		{Name: "priority", Value: fhir.String("routine")},
		{Name: "code", Value: concept(taskKindSystem, string(t.Kind), display)},
		{Name: "description", Value: fhir.String(description)},
	}
	if t.Kind != healthcheck.MissingComponent && len(t.Evidence) > 0 {
		members = append(members, fhir.Member{Name: "focus", Value: sourceRef(t.Evidence[0])})
	}
	members = append(members,
		fhir.Member{Name: "for", Value: identifierRef("Patient", nhsNumberSystem, nhsNumber)},
		fhir.Member{Name: "authoredOn", Value: at},
		fhir.Member{Name: "lastModified", Value: at},
		fhir.Member{Name: "requester", Value: fhir.Object(fhir.Member{Name: "display", Value: fhir.String("CareBridge health check reconciliation")})},
		fhir.Member{Name: "owner", Value: identifierRef("Organization", odsSystem, t.Owner)},
	)
	period := []fhir.Member{{Name: "start", Value: fhir.String(t.CycleStart.String())}}
	if !t.PeriodEnd.IsZero() {
		period = append(period, fhir.Member{Name: "end", Value: fhir.String(t.PeriodEnd.String())})
	}
	members = append(members, fhir.Member{Name: "restriction", Value: fhir.Object(fhir.Member{Name: "period", Value: fhir.Object(period...)})})
	input := []fhir.Value{}
	if t.Component != "" {
		input = append(input, fhir.Object(
			fhir.Member{Name: "type", Value: concept(taskInputSystem, "component", "Health check component")},
			fhir.Member{Name: "valueCodeableConcept", Value: concept(componentSystem, string(t.Component), componentNames[t.Component])},
		))
	}
	if t.Measure != "" {
		input = append(input, fhir.Object(
			fhir.Member{Name: "type", Value: concept(taskInputSystem, "finding", "Finding")},
			fhir.Member{Name: "valueCodeableConcept", Value: concept(measureSystem, t.Measure, "")},
		))
	}
	input = append(input, evidenceParams(t.Evidence)...)
	members = append(members, fhir.Member{Name: "input", Value: fhir.Array(input...)})
	return fhir.Object(members...)
}

// closingReason is the statusReason text of a Task the gateway closes
// with business status bs: a completion without evidence would need one
// (rule 16), and it tells the practice why in words.
func closingReason(bs string) string {
	switch bs {
	case healthcheck.SatisfiedByEvidence:
		return "closed by CareBridge: qualifying evidence was recorded"
	case healthcheck.NoLongerEligible:
		return "closed by CareBridge: the person is no longer eligible for the health check"
	case healthcheck.DeclinedByPatient:
		return "closed by CareBridge: the person declined this component"
	case healthcheck.Superseded:
		return "closed by CareBridge: a Task for another cycle or organisation replaces this one"
	}
	return "closed by CareBridge: " + bs
}

// closeTaskResource ends a stored Task the way o says, at now: status, its
// reason, business status, and for a completion the evidence as output.
// The rest of the Task, whoever wrote it, is kept.
func closeTaskResource(task fhir.Value, o healthcheck.Outcome, now time.Time) fhir.Value {
	task = task.Clone()
	task.Set("status", fhir.String(o.Status))
	task.Set("statusReason", fhir.Object(fhir.Member{Name: "text", Value: fhir.String(closingReason(o.BusinessStatus))}))
	task.Set("businessStatus", concept(taskBusinessSystem, o.BusinessStatus, ""))
	task.Set("lastModified", fhir.String(fhir.FormatInstant(now)))
	if o.Status == "completed" && len(o.Evidence) > 0 {
		task.Set("output", fhir.Array(evidenceParams(o.Evidence)...))
	}
	return task
}
