package taskflow

import (
	"slices"

	"github.com/carebridge/carebridge/fhir"
)

// GatewaySource is the meta.source of the Tasks the gateway raises itself
// for the annual health check. The gateway may complete and cancel those
// Tasks from any status that is not final (rule 17).
const GatewaySource = "urn:carebridge:source:healthcheck"

// Actor is who asks for a change. The zero Actor is someone not known: a
// request that carries no identity (before authentication). The rules on
// transitions and content apply to them; the rules on who may make a change
// cannot, except that they are never the gateway itself.
type Actor struct {
	// ODS is the ODS code of the organisation making the change.
	ODS string
	// System marks the gateway's own automation (the health check).
	System bool
}

// known reports whether the actor's identity is known.
func (a Actor) known() bool { return a.System || a.ODS != "" }

// owns reports whether a may act as the owner of the Task cur.
func (a Actor) owns(cur Version) bool {
	return !a.known() || a.ODS != "" && a.ODS == cur.Owner.ODS
}

// requests reports whether a may act as the requester of the Task cur. The
// gateway is the requester of the Tasks it raised.
func (a Actor) requests(cur Version) bool {
	return !a.known() || a.ODS != "" && a.ODS == cur.Requester.ODS || a.System && cur.Raised
}

// Party is an organisation a Task names as its owner or requester.
type Party struct {
	// ODS is the organisation's ODS code: from an identifier reference, or
	// filled in by the caller once it has resolved Organization.
	ODS string
	// Organization is the id of a literal Organization/{id} reference,
	// whose ODS code the caller looks up; "" otherwise.
	Organization string
}

// Version is what the rules read of one version of a Task.
type Version struct {
	Status    Status
	Owner     Party
	Requester Party
	// Raised says the gateway raised the Task itself (meta.source is
	// GatewaySource).
	Raised bool
	// Reason says statusReason has a coding or a text.
	Reason bool
	// Output says the Task has at least one output.
	Output bool
}

// Read returns what the rules need of a Task.
func Read(task fhir.Value) Version {
	v := Version{
		Status:    Status(task.Str("status")),
		Owner:     partyOf(task, "owner"),
		Requester: partyOf(task, "requester"),
		Output:    member(task, "output").Len() > 0,
	}
	v.Raised = member(task, "meta").Str("source") == GatewaySource
	reason := member(task, "statusReason")
	v.Reason = member(reason, "coding").Len() > 0 || reason.Str("text") != ""
	return v
}

// partyOf reads the organisation a reference element names: by ODS
// identifier, or by a literal reference to an Organization.
func partyOf(task fhir.Value, element string) Party {
	ref := member(task, element)
	if id := member(ref, "identifier"); id.Str("system") == fhir.SystemODSCode && id.Str("value") != "" {
		return Party{ODS: id.Str("value")}
	}
	if r := fhir.ParseReference(ref.Str("reference")); r.Kind == fhir.RefRelative && r.Type == "Organization" {
		return Party{Organization: r.ID}
	}
	return Party{}
}

func member(v fhir.Value, name string) fhir.Value {
	out, _ := v.Get(name)
	return out
}

// Create checks a Task about to be created. It may start in any status but
// ready (senders record Tasks already under way in their own systems), with
// what that status needs. Who may create a Task is not decided here.
func Create(v Version) error {
	if v.Status == Ready {
		return readyRefused()
	}
	return needs(v)
}

// Update checks next, a new version of the Task whose current version is
// cur, asked for by a. cur's Owner and Requester must carry the ODS codes
// the caller could resolve. An update identical to cur is not a change and
// must not be checked: retries of an accepted change stay accepted.
//
// A status change must follow rule 16 (Next), or be the gateway's own:
// entered-in-error from any status, and for a Task it raised, completed or
// cancelled from any status that is not final (rule 17). The owner
// receives, accepts, rejects, starts, puts on hold, completes and fails;
// the requester requests (from draft) and cancels. A change that keeps the
// status is an edit, for the owner or the requester, and a finished Task
// takes none.
func Update(cur, next Version, a Actor) error {
	if next.Status == Ready {
		return readyRefused()
	}
	if next.Status == cur.Status {
		if Terminal(cur.Status) {
			return fhir.Errorf(fhir.Unprocessable, fhir.IssueBusinessRule, "Task.status",
				"the Task is %s, which is final: a finished Task does not change any more", cur.Status)
		}
		if !a.owns(cur) && !a.requests(cur) {
			return forbidden("Task", "only the Task's owner or requester may change it", a, cur)
		}
		return nil
	}
	if !reachable(cur, next.Status, a) {
		return transitionRefused(cur.Status, next.Status)
	}
	if err := mayMove(cur, next.Status, a); err != nil {
		return err
	}
	return needs(next)
}

// Delete checks the deletion of the Task whose current version is cur: only
// a finished Task may be deleted, by its owner, its requester or the
// gateway. One that is not finished is cancelled, or marked
// entered-in-error, instead.
func Delete(cur Version, a Actor) error {
	if !Terminal(cur.Status) {
		return fhir.Errorf(fhir.Unprocessable, fhir.IssueBusinessRule, "Task.status",
			"the Task is %s: only a finished Task (completed, cancelled, failed, rejected or entered-in-error) may be deleted; cancel it, or have it marked entered-in-error, instead", cur.Status)
	}
	if !a.System && !a.owns(cur) && !a.requests(cur) {
		return forbidden("Task", "only the Task's owner or requester may delete it", a, cur)
	}
	return nil
}

// reachable reports whether a Task in cur may move to status to at a's
// hand, leaving aside who owns or requested it.
func reachable(cur Version, to Status, a Actor) bool {
	switch {
	case slices.Contains(Next(cur.Status), to):
		return true
	case to == EnteredInError:
		return cur.Status != EnteredInError
	case to == Completed || to == Cancelled:
		return a.System && cur.Raised && !Terminal(cur.Status)
	}
	return false
}

// mayMove refuses a status change a may not make.
func mayMove(cur Version, to Status, a Actor) error {
	switch {
	case to == EnteredInError:
		if !a.System {
			return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, "Task.status",
				"only the gateway itself may mark a Task entered-in-error")
		}
	case a.System && cur.Raised && (to == Completed || to == Cancelled):
	case to == Requested || to == Cancelled:
		if !a.requests(cur) {
			return forbidden("Task.requester", "only the Task's requester may "+deed(cur.Status, to)+
				" (from "+string(cur.Status)+" to "+string(to)+"): the requester requests and cancels a Task", a, cur)
		}
	default:
		if !a.owns(cur) {
			return forbidden("Task.owner", "only the Task's owner may "+deed(cur.Status, to)+
				" (from "+string(cur.Status)+" to "+string(to)+"): the owner receives, accepts, rejects, starts, puts on hold, completes and fails a Task", a, cur)
		}
	}
	return nil
}

// deed says what moving a Task from one status to another does.
func deed(from, to Status) string {
	switch to {
	case Requested:
		return "request it"
	case Received:
		return "mark it received"
	case Accepted:
		return "accept it"
	case Rejected:
		return "reject it"
	case InProgress:
		if from == OnHold {
			return "resume it"
		}
		return "start it"
	case OnHold:
		return "put it on hold"
	case Completed:
		return "complete it"
	case Failed:
		return "mark it failed"
	case Cancelled:
		return "cancel it"
	}
	return "move it"
}

// needs refuses a Task in a status that lacks what the status needs: a
// rejected or failed Task says why; a completed one has an output, or says
// why there is none.
func needs(v Version) error {
	switch v.Status {
	case Rejected, Failed:
		if !v.Reason {
			return fhir.Errorf(fhir.Unprocessable, fhir.IssueRequired, "Task.statusReason",
				"a %s Task needs a statusReason, as a coding or a text, saying why", v.Status)
		}
	case Completed:
		if !v.Output && !v.Reason {
			return fhir.Errorf(fhir.Unprocessable, fhir.IssueRequired, "Task.output",
				"a completed Task needs at least one output, or a statusReason saying why there is none")
		}
	}
	return nil
}

func readyRefused() error {
	return fhir.Errorf(fhir.Unprocessable, fhir.IssueBusinessRule, "Task.status",
		"status ready is not used here: a Task's owner moves it from requested or received to accepted, then to in-progress")
}

// transitionRefused names the current and the requested status, and what
// may follow the current one.
func transitionRefused(from, to Status) error {
	var allowed string
	switch next := Next(from); {
	case Terminal(from):
		allowed = string(from) + " is final: a finished Task does not change any more (only the gateway itself may still mark it entered-in-error)"
	case len(next) == 0:
		allowed = "nothing may follow " + string(from) + " but entered-in-error, at the gateway's hand"
	default:
		allowed = "from " + string(from) + " a Task may become " + list(next) + " (or entered-in-error, at the gateway's hand only)"
	}
	return fhir.Errorf(fhir.Unprocessable, fhir.IssueBusinessRule, "Task.status",
		"a Task's status cannot change from %s to %s: %s", from, to, allowed)
}

// forbidden refuses a change a is not entitled to make, saying why when the
// Task names its organisations in a way the gateway could not resolve.
func forbidden(expression, why string, a Actor, cur Version) error {
	switch {
	case a.ODS != "" && expression == "Task.owner" && cur.Owner.ODS == "":
		why += "; Task.owner names no organisation this gateway knows by ODS code"
	case a.ODS != "" && expression == "Task.requester" && cur.Requester.ODS == "":
		why += "; Task.requester names no organisation this gateway knows by ODS code"
	}
	return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, expression, "%s", why)
}
