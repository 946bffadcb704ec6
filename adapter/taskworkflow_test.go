package adapter_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// as returns a context in which the organisation ods acts.
func as(ods string) context.Context {
	return adapter.WithActor(context.Background(), adapter.Actor{ODS: ods})
}

// wantRefusal fails t unless err is of kind want with an issue at
// expression whose diagnostics hold each of words.
func wantRefusal(t *testing.T, step string, err error, want fhir.Kind, expression string, words ...string) {
	t.Helper()
	fe, ok := err.(*fhir.Error)
	if !ok || fe.Kind != want {
		t.Fatalf("%s: error %v, want %s", step, err, want)
	}
	is := fe.Issues[0]
	if is.Expression != expression {
		t.Errorf("%s: issue at %q, want %q (%s)", step, is.Expression, expression, is.Diagnostics)
	}
	for _, w := range words {
		if !strings.Contains(is.Diagnostics, w) {
			t.Errorf("%s: diagnostics %q do not say %q", step, is.Diagnostics, w)
		}
	}
}

// version returns the current version of Type/id.
func version(t *testing.T, gw *adapter.Gateway, typ, id string) int64 {
	t.Helper()
	r, err := gw.Read(context.Background(), typ, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.VersionID
}

// TestTaskWorkflowOnUpdatesAndDeletes takes one Task through its life by
// single interactions: the owner (named by a literal Organization
// reference the projection resolves) accepts, starts and completes it; the
// requester, another organisation, a caller not known and a stale If-Match
// are refused where they must be; a retry changes nothing; a finished Task
// takes no edit, and may be marked entered-in-error by the gateway and
// deleted; one that is not finished may not be deleted.
func TestTaskWorkflowOnUpdatesAndDeletes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gw := newGateway(t, st)
		if _, err := gw.Update(ctx, "Organization", "practice", resource(t, `{"resourceType":"Organization","id":"practice","meta":{"source":"`+gpSource+`"},
			"identifier":[{"system":"`+odsSystem+`","value":"`+practice+`"}]}`), ""); err != nil {
			t.Fatal(err)
		}
		task := func(status, extra string) fhir.Value {
			return resource(t, `{"resourceType":"Task","id":"t1","status":"`+status+`","intent":"order",`+extra+`
				"owner":{"reference":"Organization/practice"},"requester":{"identifier":{"system":"`+odsSystem+`","value":"RXX"}}}`)
		}
		owner, requester, stranger := as(practice), as("RXX"), as("B23456")
		accept := func(ctx context.Context, ifMatch string) (adapter.EntryResult, error) {
			return gw.Update(ctx, "Task", "t1", task("accepted", ""), ifMatch)
		}

		if _, err := gw.Update(requester, "Task", "t1", task("requested", ""), ""); err != nil {
			t.Fatal(err)
		}
		_, err := accept(stranger, `W/"1"`)
		wantRefusal(t, "another organisation accepts", err, fhir.Forbidden, "Task.owner", "only the Task's owner may accept it")
		_, err = accept(requester, `W/"1"`)
		wantRefusal(t, "the requester accepts", err, fhir.Forbidden, "Task.owner")
		out, err := accept(owner, `W/"1"`)
		if err != nil || out.Resource.VersionID != 2 {
			t.Fatalf("the owner accepts: version %d, %v; want version 2", out.Resource.VersionID, err)
		}
		// A retry of the accepted change is not a change.
		if out, err = accept(owner, ""); err != nil || out.Resource.VersionID != 2 || out.Status != http.StatusOK {
			t.Fatalf("the owner's retry: %d version %d, %v; want 200 and version 2", out.Status, out.Resource.VersionID, err)
		}
		_, err = gw.Update(owner, "Task", "t1", task("in-progress", ""), `W/"1"`)
		wantRefusal(t, "a start with a stale If-Match", err, fhir.PreconditionFailed, "", "asks for version 1", "at version 2")
		_, err = gw.Update(requester, "Task", "t1", task("in-progress", ""), `W/"2"`)
		wantRefusal(t, "the requester starts", err, fhir.Forbidden, "Task.owner", "only the Task's owner may start it")
		if out, err = gw.Update(owner, "Task", "t1", task("in-progress", ""), `W/"2"`); err != nil || out.Resource.VersionID != 3 {
			t.Fatalf("the owner starts: version %d, %v; want version 3", out.Resource.VersionID, err)
		}
		_, err = gw.Delete(requester, "Task", "t1", "")
		wantRefusal(t, "a delete of a Task under way", err, fhir.Unprocessable, "Task.status", "in-progress", "cancel it")
		_, err = gw.Update(ctx, "Task", "t1", task("accepted", ""), "")
		wantRefusal(t, "a caller not known moves it back", err, fhir.Unprocessable, "Task.status",
			"from in-progress to accepted", "cancelled, on-hold, failed or completed")
		_, err = gw.Update(owner, "Task", "t1", task("completed", ""), "")
		wantRefusal(t, "a completion without output", err, fhir.Unprocessable, "Task.output", "needs at least one output")
		done := task("completed", `"output":[{"type":{"text":"result"},"valueReference":{"reference":"Observation/o1"}}],`)
		if out, err = gw.Update(owner, "Task", "t1", done, ""); err != nil || out.Resource.VersionID != 4 {
			t.Fatalf("the owner completes: version %d, %v; want version 4", out.Resource.VersionID, err)
		}
		// Finished: no edit, by anyone.
		edited := task("completed", `"note":[{"text":"seen"}],"output":[{"type":{"text":"result"},"valueReference":{"reference":"Observation/o1"}}],`)
		_, err = gw.Update(owner, "Task", "t1", edited, "")
		wantRefusal(t, "an edit of a finished Task", err, fhir.Unprocessable, "Task.status", "completed, which is final")
		_, err = gw.Update(owner, "Task", "t1", task("entered-in-error", ""), "")
		wantRefusal(t, "the owner marks it entered-in-error", err, fhir.Forbidden, "Task.status", "only the gateway itself")
		system := adapter.WithActor(ctx, adapter.Actor{System: true})
		if out, err = gw.Update(system, "Task", "t1", task("entered-in-error", ""), `W/"4"`); err != nil || out.Resource.VersionID != 5 {
			t.Fatalf("the gateway marks it entered-in-error: version %d, %v; want version 5", out.Resource.VersionID, err)
		}
		_, err = gw.Delete(stranger, "Task", "t1", "")
		wantRefusal(t, "another organisation deletes it", err, fhir.Forbidden, "Task")
		if _, err := gw.Delete(owner, "Task", "t1", `W/"5"`); err != nil {
			t.Fatalf("the owner deletes the finished Task: %v", err)
		}
		if _, err := gw.Read(ctx, "Task", "t1"); fhir.KindOf(err) != fhir.Gone {
			t.Errorf("after the delete, read: %v; want gone", err)
		}
		// A Task created again over a deleted one starts afresh, in any
		// status but ready, with what its status needs.
		_, err = gw.Update(ctx, "Task", "t1", task("ready", ""), "")
		wantRefusal(t, "a create in ready", err, fhir.Unprocessable, "Task.status", "ready is not used")
		_, err = gw.Update(ctx, "Task", "t1", task("rejected", ""), "")
		wantRefusal(t, "a create rejected without a reason", err, fhir.Unprocessable, "Task.statusReason")
		if _, err := gw.Update(ctx, "Task", "t1", task("in-progress", ""), ""); err != nil {
			t.Fatalf("a create in progress: %v", err)
		}
	})
}

// TestRefusedTaskChangeInABundle: in a transaction, a refused Task change
// fails the whole Bundle and nothing is written; in a batch, only its entry
// fails. Either way the refusal points into the Bundle.
func TestRefusedTaskChangeInABundle(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gw := newGateway(t, st)
		if _, err := gw.Update(ctx, "Task", "t2", resource(t, `{"resourceType":"Task","id":"t2","status":"requested","intent":"order"}`), ""); err != nil {
			t.Fatal(err)
		}
		observation := func(id string) any {
			return map[string]any{"resource": map[string]any{"resourceType": "Observation", "id": id, "status": "final",
				"code": map[string]any{"text": "weight"}}, "request": map[string]any{"method": "PUT", "url": "Observation/" + id}}
		}
		completion := map[string]any{"resource": map[string]any{"resourceType": "Task", "id": "t2", "status": "completed", "intent": "order",
			"output": []any{map[string]any{"type": map[string]any{"text": "result"}, "valueString": "done"}}},
			"request": map[string]any{"method": "PUT", "url": "Task/t2"}}
		deletion := map[string]any{"request": map[string]any{"method": "DELETE", "url": "Task/t2"}}
		bundle := func(kind string, entries ...any) fhir.Value {
			return mustBundle(t, map[string]any{"resourceType": "Bundle", "type": kind, "entry": entries})
		}

		_, err := gw.ProcessBundle(ctx, bundle("transaction", observation("o1"), completion))
		wantRefusal(t, "the transaction", err, fhir.Unprocessable, "Bundle.entry[1].resource.status", "from requested to completed")
		if _, err := gw.Read(ctx, "Observation", "o1"); fhir.KindOf(err) != fhir.NotFound {
			t.Errorf("the refused transaction stored its Observation: %v", err)
		}

		out, err := gw.ProcessBundle(ctx, bundle("batch", observation("o2"), completion, deletion))
		if err != nil {
			t.Fatal(err)
		}
		if out.Entries[0].Err != nil {
			t.Errorf("the batch's Observation: %v", out.Entries[0].Err)
		}
		wantRefusal(t, "the batch's Task update", out.Entries[1].Err, fhir.Unprocessable, "Bundle.entry[1].resource.status", "from requested to completed")
		wantRefusal(t, "the batch's Task delete", out.Entries[2].Err, fhir.Unprocessable, "Bundle.entry[2].request", "only a finished Task")
		if _, err := gw.Read(ctx, "Observation", "o2"); err != nil {
			t.Errorf("the batch did not store its Observation: %v", err)
		}
		if v := version(t, gw, "Task", "t2"); v != 1 {
			t.Errorf("the refused changes changed the Task: version %d", v)
		}
	})
}

// TestTheGatewayClosesTasksItsOwnerStarted: the practice accepts and
// starts a health check Task from its own system (which writes its own
// meta.source), rejects another (with a reason, as it must), and the
// health check still completes the started one when evidence arrives,
// through the same rules, and leaves the rejected one as it is.
func TestTheGatewayClosesTasksItsOwnerStarted(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newCheckGateway(t, st)
		put(t, gw, gpSource, gpPatient...)
		tasks := checkTasks(t, gw, practice)
		byComponent := map[string]fhir.Value{}
		for key, task := range tasks {
			if kind, subject, _ := healthcheck.ParseKey(key); kind == healthcheck.MissingComponent {
				byComponent[subject] = task
			}
		}
		owner := as(practice)
		change := func(component, status, reason string) error {
			task := byComponent[component].Clone()
			task.Set("meta", fhir.Object(fhir.Member{Name: "source", Value: fhir.String(gpSource)}))
			task.Set("status", fhir.String(status))
			if reason != "" {
				task.Set("statusReason", fhir.Object(fhir.Member{Name: "text", Value: fhir.String(reason)}))
			}
			out, err := gw.Update(owner, "Task", task.Str("id"), task, "")
			if err == nil {
				byComponent[component], err = fhir.ParseJSON(out.Resource.Body)
			}
			return err
		}
		for _, status := range []string{"accepted", "in-progress"} {
			if err := change("bmi", status, ""); err != nil {
				t.Fatalf("the practice moves the BMI Task to %s: %v", status, err)
			}
		}
		err := change("lipids", "rejected", "")
		wantRefusal(t, "a rejection without a reason", err, fhir.Unprocessable, "Task.statusReason")
		if err := change("lipids", "rejected", "patient moved away"); err != nil {
			t.Fatalf("the practice rejects the lipids Task: %v", err)
		}
		err = change("glucose", "completed", "")
		wantRefusal(t, "the practice completes a requested Task", err, fhir.Unprocessable, "Task.status", "from requested to completed")

		put(t, gw, gpSource,
			observation("bmi1", "60621009", "2026-06-10", 23.1, "kg/m2"),
			observation("chol1", "1005671000000105", "2026-06-11", 4.2, "mmol/L"))
		for component, want := range map[string]string{"bmi": "completed", "lipids": "rejected", "glucose": "requested"} {
			got := checkTasks(t, gw, practice)[key(t, byComponent[component])]
			if got.Str("status") != want {
				t.Errorf("%s Task after the results: %s, want %s", component, got.Str("status"), want)
			}
		}
		bmi := checkTasks(t, gw, practice)[key(t, byComponent["bmi"])]
		if reason, _ := bmi.Get("statusReason"); !strings.Contains(reason.Str("text"), "qualifying evidence") {
			t.Errorf("the completed BMI Task's statusReason = %s, want it to say why", reason.AppendJSON(nil))
		}
	})
}

// key returns a health check Task's idempotency key.
func key(t *testing.T, task fhir.Value) string {
	t.Helper()
	ids, _ := task.Get("identifier")
	for _, id := range ids.Items() {
		if id.Str("system") == adapter.TaskKeySystem {
			return id.Str("value")
		}
	}
	t.Fatalf("Task/%s has no idempotency key", task.Str("id"))
	return ""
}

// TestConcurrentStatusChangesToOneTask has the owner complete and the
// requester cancel one Task at once, several times over, each writer with
// its own note: exactly one change wins, and every other is checked against
// the version that won and refused, because a finished Task does not
// change.
func TestConcurrentStatusChangesToOneTask(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newGateway(t, st)
		task := func(status, note string) fhir.Value {
			return resource(t, `{"resourceType":"Task","id":"t3","status":"`+status+`","intent":"order","statusReason":{"text":"as agreed"},"note":[{"text":"`+note+`"}],
				"owner":{"identifier":{"system":"`+odsSystem+`","value":"`+practice+`"}},"requester":{"identifier":{"system":"`+odsSystem+`","value":"RXX"}}}`)
		}
		if _, err := gw.Update(as("RXX"), "Task", "t3", task("in-progress", "raised"), ""); err != nil {
			t.Fatal(err)
		}
		const writers = 8
		errs := make(chan error, writers)
		for i := range writers {
			go func() {
				ctx, status := as(practice), "completed"
				if i%2 == 1 {
					ctx, status = as("RXX"), "cancelled"
				}
				_, err := gw.Update(ctx, "Task", "t3", task(status, fmt.Sprintf("writer %d", i)), "")
				errs <- err
			}()
		}
		won := 0
		for range writers {
			switch err := <-errs; fhir.KindOf(err) {
			case fhir.Unprocessable:
				if !strings.Contains(err.Error(), "is final") {
					t.Errorf("refusal %v does not say the Task is finished", err)
				}
			default:
				if err != nil {
					t.Errorf("a concurrent change failed with %v, want a refusal", err)
					continue
				}
				won++
			}
		}
		if v := version(t, gw, "Task", "t3"); won != 1 || v != 2 {
			t.Errorf("%d changes won and the Task is at version %d; want one, and version 2", won, v)
		}
	})
}
