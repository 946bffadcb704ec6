package adapter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// mustParse parses a JSON resource written by the test.
func mustParse(t testing.TB, text string) fhir.Value {
	t.Helper()
	v, err := fhir.DecodeResource([]byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return v
}

// subscription returns a rest-hook Subscription on criteria with status.
func subscription(id, status, criteria string) string {
	return `{"resourceType":"Subscription","id":"` + id + `","status":"` + status + `","reason":"test","criteria":"` + criteria +
		`","channel":{"type":"rest-hook","endpoint":"http://127.0.0.1:9/hook","payload":"application/fhir+json"}}`
}

// practiceTask returns a Task owned by the practice with ODS code ods.
func practiceTask(id, ods, status string) string {
	reason := ""
	if status == "completed" || status == "rejected" || status == "failed" {
		reason = `"statusReason":{"text":"recorded at the practice"},` // the Task workflow asks for one
	}
	return `{"resourceType":"Task","id":"` + id + `","status":"` + status + `",` + reason + `"intent":"order",` +
		`"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + ods + `"}}}`
}

// update stores text with an update and returns the version written.
func update(t testing.TB, g *adapter.Gateway, text string) store.Resource {
	t.Helper()
	res := mustParse(t, text)
	out, err := g.Update(context.Background(), res.Str("resourceType"), res.Str("id"), res, "")
	if err != nil {
		t.Fatalf("update %s/%s: %v", res.Str("resourceType"), res.Str("id"), err)
	}
	return out.Resource
}

// outbox lists every notification.
func outbox(t *testing.T, g *adapter.Gateway) []store.OutboxEntry {
	t.Helper()
	page, err := g.Outbox(context.Background(), store.OutboxQuery{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// notified lists "Type/id/version -> Subscription" for each notification.
func notified(entries []store.OutboxEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Type + "/" + e.ResourceID + "/" + strings.Repeat("I", int(e.ResourceVersion)) + " -> " + e.Subscription
	}
	return out
}

func TestSubscriptionStatusIsTheServers(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	stored := func(r store.Resource) (string, string) {
		v, err := fhir.ParseJSON(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return v.Str("status"), v.Str("error")
	}
	r := update(t, g, subscription("s1", "requested", "Task?status=requested"))
	if status, _ := stored(r); status != "active" {
		t.Errorf("a requested Subscription is stored %q, want active", status)
	}
	// Sending it back as read, or as requested again, changes nothing.
	if again := update(t, g, string(r.Body)); again.VersionID != 1 {
		t.Errorf("the Subscription sent back as read made version %d", again.VersionID)
	}
	if again := update(t, g, subscription("s1", "requested", "Task?status=requested")); again.VersionID != 1 {
		t.Errorf("the Subscription sent again as requested made version %d", again.VersionID)
	}
	r = update(t, g, subscription("s1", "off", "Task?status=requested"))
	if status, _ := stored(r); status != "off" {
		t.Errorf("off is stored %q", status)
	}
	r = update(t, g, subscription("s1", "error", "Task?status=requested"))
	if status, _ := stored(r); status != "active" {
		t.Errorf("error sent for a Subscription not in error is stored %q, want active", status)
	}
	// The gateway sets error; a sender's error keeps it, with its reason;
	// a sender's active clears it.
	errorBody := strings.Replace(string(r.Body), `"status":"active"`, `"status":"error","error":"HTTP 500 after 3 attempts"`, 1)
	if _, err := g.Update(context.Background(), "Subscription", "s1", mustParse(t, errorBody), ""); err != nil {
		t.Fatal(err)
	}
	r, err := g.Read(context.Background(), "Subscription", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if status, reason := stored(r); status != "active" || reason != "" {
		t.Errorf("a sender's error and reason are stored as %q, %q; want active without error", status, reason)
	}
}

func TestSubscriptionRefusesWhatItCannotRun(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	bad := strings.Replace(subscription("s1", "requested", "Task?colour=red"), `"rest-hook"`, `"websocket"`, 1)
	_, err := g.Update(context.Background(), "Subscription", "s1", mustParse(t, bad), "")
	e := fhir.AsError(err)
	if err == nil || e.Kind != fhir.Unprocessable {
		t.Fatalf("Update = %v, want Unprocessable", err)
	}
	var where []string
	for _, is := range e.Issues {
		where = append(where, is.Expression)
	}
	if diff := cmp.Diff([]string{"Subscription.criteria", "Subscription.channel.type"}, where); diff != "" {
		t.Errorf("issue expressions (-want +got):\n%s", diff)
	}
	if _, err := g.Read(context.Background(), "Subscription", "s1"); fhir.KindOf(err) != fhir.NotFound {
		t.Errorf("a refused Subscription was stored: %v", err)
	}
}

func TestWritesMakeNotificationsForMatchingSubscriptions(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		g := newGateway(t, st)
		update(t, g, subscription("a81001", "requested", "Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001"))
		update(t, g, subscription("open", "requested", "Task?status=requested,accepted"))
		update(t, g, subscription("stopped", "off", "Task"))
		update(t, g, subscription("patients", "requested", "Patient"))

		update(t, g, practiceTask("t1", "A81001", "requested"))
		update(t, g, practiceTask("t2", "B82002", "requested"))
		update(t, g, practiceTask("t1", "A81001", "cancelled"))
		update(t, g, practiceTask("t3", "B82002", "completed"))
		update(t, g, practiceTask("t2", "B82002", "cancelled")) // finished, so it may be deleted
		if _, err := g.Delete(context.Background(), "Task", "t2", ""); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"Task/t1/I -> a81001", "Task/t1/I -> open",
			"Task/t2/I -> open",
			"Task/t1/II -> a81001",
		}
		if diff := cmp.Diff(want, notified(outbox(t, g))); diff != "" {
			t.Errorf("notifications (-want +got):\n%s", diff)
		}
		for _, e := range outbox(t, g) {
			if e.State != store.OutboxPending || e.Attempts != 0 || e.SubscriptionVersion != 1 || e.NextAttempt.IsZero() {
				t.Errorf("new notification %+v; want pending, due, no attempts, of Subscription version 1", e)
			}
		}
	})
}

func TestNotificationsCommitWithTheirChange(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	update(t, g, subscription("all", "requested", "Task"))
	// A transaction that fails leaves no notification.
	bundle := mustParse(t, `{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":`+practiceTask("t1", "A81001", "requested")+`,"request":{"method":"PUT","url":"Task/t1"}},
		{"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1?x"}},
		{"request":{"method":"PUT","url":"Task/t1"},"resource":`+practiceTask("t1", "A81001", "accepted")+`}]}`)
	if _, err := g.ProcessBundle(context.Background(), bundle); err == nil {
		t.Fatal("a transaction that changes Task/t1 twice was accepted")
	}
	if got := outbox(t, g); len(got) != 0 {
		t.Errorf("a failed transaction left notifications: %v", notified(got))
	}
}

func TestGivingUpPutsTheSubscriptionInErrorAndADeliveryPutsItBack(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		g := newGateway(t, st)
		update(t, g, subscription("s1", "requested", "Task"))
		update(t, g, practiceTask("t1", "A81001", "requested"))
		claimed := claimAll(t, g, "gw-a")
		if len(claimed) != 1 || claimed[0].Subscription == nil || string(claimed[0].Body) == "" {
			t.Fatalf("claimed %+v; want one notification with its Subscription and body", claimed)
		}
		// A sender changes the Subscription while the attempt runs: the
		// gateway's change must be made on top of it.
		update(t, g, strings.Replace(subscription("s1", "active", "Task"), `"reason":"test"`, `"reason":"changed"`, 1))
		ok, _, err := g.RecordAttempts(ctx, []adapter.Attempt{{Notification: &claimed[0], Holder: "gw-a", State: store.OutboxDead, Error: "HTTP 500 after 3 attempts"}})
		if err != nil || !ok[0] {
			t.Fatalf("RecordAttempts = %v, %v", ok, err)
		}
		sub := readJSON(t, g, "Subscription", "s1")
		if sub.Str("status") != "error" || sub.Str("error") != "HTTP 500 after 3 attempts" || sub.Str("reason") != "changed" {
			t.Errorf("after giving up: status %q, error %q, reason %q; want error, the reason, and the sender's change kept",
				sub.Str("status"), sub.Str("error"), sub.Str("reason"))
		}
		// A sender's update that sends the status back as error keeps it,
		// with the gateway's reason.
		sent := strings.Replace(subscription("s1", "error", "Task"), `"reason":"test"`, `"reason":"changed again"`, 1)
		update(t, g, sent)
		sub = readJSON(t, g, "Subscription", "s1")
		if sub.Str("status") != "error" || sub.Str("error") != "HTTP 500 after 3 attempts" {
			t.Errorf("after a sender's update as error: status %q, error %q; want both kept", sub.Str("status"), sub.Str("error"))
		}
		// In error, notifications are still made and tried; one delivered
		// puts the Subscription back to active.
		update(t, g, practiceTask("t2", "A81001", "requested"))
		claimed = claimAll(t, g, "gw-b")
		if len(claimed) != 1 || !claimed[0].InError {
			t.Fatalf("claimed %+v; want t2's notification, its Subscription in error", claimed)
		}
		if ok, _, err := g.RecordAttempts(ctx, []adapter.Attempt{{Notification: &claimed[0], Holder: "gw-b", State: store.OutboxDelivered}}); err != nil || !ok[0] {
			t.Fatalf("RecordAttempts = %v, %v", ok, err)
		}
		sub = readJSON(t, g, "Subscription", "s1")
		if sub.Str("status") != "active" || sub.Str("error") != "" {
			t.Errorf("after a delivery: status %q, error %q; want active without error", sub.Str("status"), sub.Str("error"))
		}
		// The dead notification is redriven, from its first attempt.
		redriven, err := g.Redrive(ctx, store.OutboxSelection{Subscription: "s1"})
		if err != nil || len(redriven) != 1 || redriven[0].ResourceID != "t1" {
			t.Fatalf("Redrive = %+v, %v; want t1's notification", redriven, err)
		}
		if _, err := g.Redrive(ctx, store.OutboxSelection{Subscription: "s1", All: true}); fhir.KindOf(err) != fhir.Invalid {
			t.Errorf("a redrive naming a Subscription and all = %v, want Invalid", err)
		}
	})
}

func TestNotificationsOfASubscriptionTurnedOffAreNotDelivered(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	update(t, g, subscription("s1", "requested", "Task"))
	update(t, g, practiceTask("t1", "A81001", "requested"))
	update(t, g, subscription("s1", "off", "Task"))
	claimed := claimAll(t, g, "gw-a")
	if len(claimed) != 1 || claimed[0].Subscription != nil || !strings.Contains(claimed[0].Undeliverable, "is off") {
		t.Fatalf("claimed %+v; want one undeliverable notification", claimed)
	}
}

// claimAll claims every due notification for holder.
func claimAll(t *testing.T, g *adapter.Gateway, holder string) []adapter.Notification {
	t.Helper()
	got, err := g.ClaimNotifications(context.Background(), holder, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// readJSON reads the current version of typ/id.
func readJSON(t *testing.T, g *adapter.Gateway, typ, id string) fhir.Value {
	t.Helper()
	r, err := g.Read(context.Background(), typ, id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := fhir.ParseJSON(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestASubscriptionRolledBackLeavesNothingBehind: a transaction that
// writes a Subscription, matches a change against it and then fails must
// not leave its criteria to a later Subscription of the same id and
// version.
func TestASubscriptionRolledBackLeavesNothingBehind(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	bundle := mustParse(t, `{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":`+subscription("s1", "requested", "Task?status=requested")+`,"request":{"method":"PUT","url":"Subscription/s1"}},
		{"resource":`+practiceTask("t0", "A81001", "requested")+`,"request":{"method":"PUT","url":"Task/t0"}},
		{"request":{"method":"GET","url":"Patient/nobody"}}]}`)
	if _, err := g.ProcessBundle(context.Background(), bundle); err == nil {
		t.Fatal("a transaction reading a Patient that does not exist was accepted")
	}
	update(t, g, subscription("s1", "requested", "Task?status=completed"))
	update(t, g, practiceTask("t1", "A81001", "completed"))
	update(t, g, practiceTask("t2", "A81001", "requested"))
	if diff := cmp.Diff([]string{"Task/t1/I -> s1"}, notified(outbox(t, g))); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
}

// TestQueuedWakesOnlyForCommitsThatQueueNotifications: a delivery worker
// sleeps through commits that notify no one.
func TestQueuedWakesOnlyForCommitsThatQueueNotifications(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	queued := g.Queued()
	update(t, g, subscription("s1", "requested", "Task?status=requested"))
	update(t, g, practiceTask("t1", "A81001", "completed"))
	if closed(queued) {
		t.Fatal("commits that queued no notification woke the waiters")
	}
	update(t, g, practiceTask("t2", "A81001", "requested"))
	if !closed(queued) {
		t.Fatal("a commit that queued a notification did not wake the waiters")
	}
	if closed(g.Queued()) {
		t.Fatal("the next commit's channel is already closed")
	}
}
