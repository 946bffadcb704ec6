// Package taskflow owns the lifecycle of a FHIR Task in CareBridge (domain
// reference, section 10, rules 16 and 17): which status may follow which,
// what a status needs (a reason, an output), and who may make each change:
// the Task's owner, its requester, or the gateway's own automation.
//
// It is pure: it reads Task versions as fhir.Values and answers with
// *fhir.Error refusals. It does no I/O. The caller says who is acting and
// resolves the organisations a Task names by reference into ODS codes.
package taskflow

import "strings"

// Status is a FHIR R4 task-status code.
type Status string

// The R4 task-status codes (http://hl7.org/fhir/task-status).
const (
	Draft          Status = "draft"
	Requested      Status = "requested"
	Received       Status = "received"
	Accepted       Status = "accepted"
	Rejected       Status = "rejected"
	Ready          Status = "ready" // not used by CareBridge: refused on create and update
	Cancelled      Status = "cancelled"
	InProgress     Status = "in-progress"
	OnHold         Status = "on-hold"
	Failed         Status = "failed"
	Completed      Status = "completed"
	EnteredInError Status = "entered-in-error"
)

// Statuses returns every R4 task-status code, in the order of the code
// system.
func Statuses() []Status {
	return []Status{Draft, Requested, Received, Accepted, Rejected, Ready, Cancelled, InProgress, OnHold, Failed, Completed, EnteredInError}
}

// Next returns the statuses a Task in status s may move to at its owner's
// or requester's hand (rule 16), in the order of the code system. It leaves
// out entered-in-error, which any Task may become, but only at the
// gateway's hand, and the gateway's own shortcuts (see Update).
func Next(s Status) []Status {
	switch s {
	case Draft:
		return []Status{Requested, Cancelled}
	case Requested:
		return []Status{Received, Accepted, Rejected, Cancelled}
	case Received:
		return []Status{Accepted, Rejected, Cancelled}
	case Accepted:
		return []Status{Cancelled, InProgress, OnHold}
	case InProgress:
		return []Status{Cancelled, OnHold, Failed, Completed}
	case OnHold:
		return []Status{Cancelled, InProgress}
	}
	return nil
}

// Terminal reports whether a Task in status s is finished: completed,
// cancelled, failed, rejected or entered-in-error. A finished Task does not
// change any more, except that the gateway may still mark it
// entered-in-error.
func Terminal(s Status) bool {
	switch s {
	case Completed, Cancelled, Failed, Rejected, EnteredInError:
		return true
	}
	return false
}

// list joins statuses as a sentence: "a, b or c".
func list(ss []Status) string {
	var b strings.Builder
	for i, s := range ss {
		switch {
		case i == 0:
		case i == len(ss)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}
