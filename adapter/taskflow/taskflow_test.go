package taskflow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// rule16 is the domain reference's rule 16, written out: the statuses
// each status may move to at its owner's or requester's hand.
// entered-in-error (from any status, the gateway only) is not in it.
var rule16 = map[string][]string{
	"draft":       {"requested", "cancelled"},
	"requested":   {"received", "accepted", "rejected", "cancelled"},
	"received":    {"accepted", "rejected", "cancelled"},
	"accepted":    {"in-progress", "cancelled", "on-hold"},
	"in-progress": {"completed", "failed", "on-hold", "cancelled"},
	"on-hold":     {"in-progress", "cancelled"},
}

// allStatuses are the R4 task-status codes: the eleven CareBridge uses and
// ready, which it refuses.
var allStatuses = []string{"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
	"in-progress", "on-hold", "failed", "completed", "entered-in-error"}

var terminal = []string{"completed", "cancelled", "failed", "rejected", "entered-in-error"}

// requesterMoves are the statuses the requester moves a Task to; the owner
// makes every other move of rule 16.
var requesterMoves = []string{"requested", "cancelled"}

const (
	owner     = "A12345"
	requester = "RXX"
	stranger  = "B23456"
)

// task returns a Task version in status s owned by A12345 and requested by
// RXX, with everything any status needs.
func task(s string) taskflow.Version {
	return taskflow.Version{
		Status: taskflow.Status(s), Owner: taskflow.Party{ODS: owner}, Requester: taskflow.Party{ODS: requester},
		Reason: true, Output: true,
	}
}

// verdict is how a check ended: "ok", "422" (Unprocessable) or "403"
// (Forbidden).
func verdict(t *testing.T, err error) string {
	t.Helper()
	switch fhir.KindOf(err) {
	case fhir.Unprocessable:
		return "422"
	case fhir.Forbidden:
		return "403"
	}
	if err != nil {
		t.Fatalf("unexpected error kind: %v", err)
	}
	return "ok"
}

func TestStatusesAreTheR4Codes(t *testing.T) {
	var got []string
	for _, s := range taskflow.Statuses() {
		got = append(got, string(s))
	}
	if !slices.Equal(got, allStatuses) {
		t.Errorf("Statuses() = %v, want %v", got, allStatuses)
	}
	for _, s := range allStatuses {
		if got, want := taskflow.Terminal(taskflow.Status(s)), slices.Contains(terminal, s); got != want {
			t.Errorf("Terminal(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestEveryTransitionOfAnUnknownActor checks every (from, to) pair for a
// caller whose identity is not known: rule 16 applies, entered-in-error is
// the gateway's alone, ready is never used, and a refusal names both
// statuses and what may follow the current one.
func TestEveryTransitionOfAnUnknownActor(t *testing.T) {
	eachChange(func(from, to string) {
		want := "422"
		switch {
		case to == "ready":
		case slices.Contains(rule16[from], to):
			want = "ok"
		case to == "entered-in-error":
			want = "403"
		}
		err := taskflow.Update(task(from), task(to), taskflow.Actor{})
		if got := verdict(t, err); got != want {
			t.Errorf("%s -> %s: %s (%v), want %s", from, to, got, err, want)
			return
		}
		if want != "422" || to == "ready" {
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, "from "+from+" to "+to) || !strings.Contains(msg, "Task.status") {
			t.Errorf("%s -> %s: refusal %q does not name both statuses at Task.status", from, to, msg)
		}
		for _, next := range rule16[from] {
			if !strings.Contains(msg, next) {
				t.Errorf("%s -> %s: refusal %q does not list %s as allowed", from, to, msg, next)
			}
		}
	})
}

// eachChange calls f with every pair of different statuses.
func eachChange(f func(from, to string)) {
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			if from != to {
				f(from, to)
			}
		}
	}
}

// TestEveryTransitionOfTheGateway checks every (from, to) pair for the
// gateway's own automation, on a Task it raised and on one it did not: it
// marks anything entered-in-error, completes and cancels its own Tasks from
// any status that is not final (rule 17), and acts as their requester.
func TestEveryTransitionOfTheGateway(t *testing.T) {
	system := taskflow.Actor{System: true}
	for _, raised := range []bool{true, false} {
		eachChange(func(from, to string) {
			want := "422"
			switch {
			case to == "ready":
			case to == "entered-in-error":
				want = "ok"
			case raised && (to == "completed" || to == "cancelled") && !slices.Contains(terminal, from):
				want = "ok"
			case raised && slices.Contains(rule16[from], to) && slices.Contains(requesterMoves, to):
				want = "ok"
			case slices.Contains(rule16[from], to):
				want = "403"
			}
			cur := task(from)
			cur.Raised = raised
			err := taskflow.Update(cur, task(to), system)
			if got := verdict(t, err); got != want {
				t.Errorf("raised %v, %s -> %s: %s (%v), want %s", raised, from, to, got, err, want)
			}
		})
	}
}

// TestWhoMayMakeEachMove checks every move of rule 16 for the owner, the
// requester and another organisation.
func TestWhoMayMakeEachMove(t *testing.T) {
	for from, tos := range rule16 {
		for _, to := range append(slices.Clone(tos), "entered-in-error") {
			byRequester := slices.Contains(requesterMoves, to)
			for _, tc := range []struct {
				ods  string
				want string
			}{
				{owner, map[bool]string{true: "403", false: "ok"}[byRequester]},
				{requester, map[bool]string{true: "ok", false: "403"}[byRequester]},
				{stranger, "403"},
			} {
				want := tc.want
				if to == "entered-in-error" {
					want = "403"
				}
				err := taskflow.Update(task(from), task(to), taskflow.Actor{ODS: tc.ods})
				if got := verdict(t, err); got != want {
					t.Errorf("%s moving %s -> %s: %s (%v), want %s", tc.ods, from, to, got, err, want)
				}
			}
		}
	}
}

func TestForbiddenSaysWhoMay(t *testing.T) {
	err := taskflow.Update(task("requested"), task("accepted"), taskflow.Actor{ODS: stranger})
	if msg := err.Error(); !strings.Contains(msg, "only the Task's owner may accept it") || !strings.Contains(msg, "Task.owner") {
		t.Errorf("refusal = %q, want it to say only the owner accepts", msg)
	}
	cur := task("requested")
	cur.Owner = taskflow.Party{Organization: "org1"} // not resolved by the caller
	err = taskflow.Update(cur, task("accepted"), taskflow.Actor{ODS: owner})
	if msg := err.Error(); !strings.Contains(msg, "names no organisation this gateway knows by ODS code") {
		t.Errorf("refusal = %q, want it to say the owner is not known by ODS code", msg)
	}
	err = taskflow.Update(task("in-progress"), task("cancelled"), taskflow.Actor{ODS: owner})
	if msg := err.Error(); !strings.Contains(msg, "only the Task's requester may cancel it") || !strings.Contains(msg, "Task.requester") {
		t.Errorf("refusal = %q, want it to say only the requester cancels", msg)
	}
}

// TestEditsThatKeepTheStatus: the owner and the requester (the gateway for
// the Tasks it raised) may edit an open Task; nobody edits a finished one.
func TestEditsThatKeepTheStatus(t *testing.T) {
	raised := func(v taskflow.Version) taskflow.Version { v.Raised = true; return v }
	same := func(v taskflow.Version) taskflow.Version { return v }
	for _, s := range allStatuses {
		for _, tc := range []struct {
			name  string
			actor taskflow.Actor
			cur   func(taskflow.Version) taskflow.Version
			open  string // the verdict for a Task that is not finished
		}{
			{"unknown actor", taskflow.Actor{}, same, "ok"},
			{"owner", taskflow.Actor{ODS: owner}, same, "ok"},
			{"requester", taskflow.Actor{ODS: requester}, same, "ok"},
			{"another organisation", taskflow.Actor{ODS: stranger}, same, "403"},
			{"gateway on its own Task", taskflow.Actor{System: true}, raised, "ok"},
			{"gateway on another's Task", taskflow.Actor{System: true}, same, "403"},
		} {
			want := tc.open
			switch {
			case s == "ready":
				want = "422"
			case slices.Contains(terminal, s):
				want = "422"
			}
			err := taskflow.Update(tc.cur(task(s)), task(s), tc.actor)
			if got := verdict(t, err); got != want {
				t.Errorf("%s editing a %s Task: %s (%v), want %s", tc.name, s, got, err, want)
			}
		}
	}
}

// TestWhatEachStatusNeeds: rejected and failed need a reason; completed
// needs an output or a reason; on create and on update alike.
func TestWhatEachStatusNeeds(t *testing.T) {
	for _, tc := range []struct {
		from, to       string
		reason, output bool
		want, where    string
	}{
		{"requested", "rejected", false, false, "422", "Task.statusReason"},
		{"requested", "rejected", false, true, "422", "Task.statusReason"},
		{"requested", "rejected", true, false, "ok", ""},
		{"in-progress", "failed", false, true, "422", "Task.statusReason"},
		{"in-progress", "failed", true, false, "ok", ""},
		{"in-progress", "completed", false, false, "422", "Task.output"},
		{"in-progress", "completed", true, false, "ok", ""},
		{"in-progress", "completed", false, true, "ok", ""},
		{"requested", "cancelled", false, false, "ok", ""},
		{"accepted", "in-progress", false, false, "ok", ""},
	} {
		next := task(tc.to)
		next.Reason, next.Output = tc.reason, tc.output
		name := fmt.Sprintf("%s with reason %v and output %v", tc.to, tc.reason, tc.output)
		for _, check := range []struct {
			how string
			err error
		}{
			{"update from " + tc.from, taskflow.Update(task(tc.from), next, taskflow.Actor{})},
			{"create", taskflow.Create(next)},
		} {
			if got := verdict(t, check.err); got != tc.want {
				t.Errorf("%s, %s: %s (%v), want %s", name, check.how, got, check.err, tc.want)
				continue
			}
			if tc.where != "" && !strings.Contains(check.err.Error(), tc.where+":") {
				t.Errorf("%s, %s: refusal %q does not point at %s", name, check.how, check.err, tc.where)
			}
		}
	}
}

func TestCreateInAnyStatusButReady(t *testing.T) {
	for _, s := range allStatuses {
		want := "ok"
		if s == "ready" {
			want = "422"
		}
		if got := verdict(t, taskflow.Create(task(s))); got != want {
			t.Errorf("create in %s: %s, want %s", s, got, want)
		}
	}
}

// TestDelete: only a finished Task may be deleted, by its owner, its
// requester or the gateway.
func TestDelete(t *testing.T) {
	for _, s := range allStatuses {
		for _, tc := range []struct {
			actor    taskflow.Actor
			finished string
		}{
			{taskflow.Actor{}, "ok"},
			{taskflow.Actor{ODS: owner}, "ok"},
			{taskflow.Actor{ODS: requester}, "ok"},
			{taskflow.Actor{ODS: stranger}, "403"},
			{taskflow.Actor{System: true}, "ok"},
		} {
			want := "422"
			if slices.Contains(terminal, s) {
				want = tc.finished
			}
			err := taskflow.Delete(task(s), tc.actor)
			if got := verdict(t, err); got != want {
				t.Errorf("%+v deleting a %s Task: %s (%v), want %s", tc.actor, s, got, err, want)
			}
			if want == "422" && !strings.Contains(err.Error(), "cancel it") {
				t.Errorf("refusal %q does not say to cancel the Task instead", err)
			}
		}
	}
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       taskflow.Version
	}{
		{"owner and requester by ODS code, raised by the gateway, reason and output",
			`{"resourceType":"Task","meta":{"source":"urn:carebridge:source:healthcheck"},"status":"completed","intent":"order",
			  "statusReason":{"text":"done elsewhere"},"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}},
			  "requester":{"type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RXX"}},
			  "output":[{"type":{"text":"result"},"valueString":"ok"}]}`,
			taskflow.Version{Status: "completed", Owner: taskflow.Party{ODS: "A12345"}, Requester: taskflow.Party{ODS: "RXX"}, Raised: true, Reason: true, Output: true}},
		{"owner by literal Organization reference, reason as a coding",
			`{"resourceType":"Task","meta":{"source":"urn:carebridge:source:uk-core-gp"},"status":"rejected","intent":"order",
			  "statusReason":{"coding":[{"system":"https://example.org/reasons","code":"moved"}]},"owner":{"reference":"Organization/org1"}}`,
			taskflow.Version{Status: "rejected", Owner: taskflow.Party{Organization: "org1"}, Reason: true}},
		{"organisations named otherwise are not parties",
			`{"resourceType":"Task","status":"requested","intent":"order","owner":{"reference":"Practitioner/pr1"},
			  "requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}},"statusReason":{"text":""}}`,
			taskflow.Version{Status: "requested"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := fhir.ParseJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := taskflow.Read(v); got != tc.want {
				t.Errorf("Read = %+v, want %+v", got, tc.want)
			}
		})
	}
}
