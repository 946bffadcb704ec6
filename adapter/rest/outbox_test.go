package rest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store"
)

const restHook = `{"resourceType":"Subscription","id":"s1","status":"requested","reason":"practice Tasks",
	"criteria":"Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001",
	"channel":{"type":"rest-hook","endpoint":"https://gp.example.nhs.uk/hook","payload":"application/fhir+json"}}`

func TestSubscriptionsAreStoredWithTheServersStatusAndRefusedWhenTheyCannotRun(t *testing.T) {
	c := newServer(t, openSQLite(t), rest.Config{})
	got := c.do("PUT", "Subscription/s1", restHook).mustStatus(t, http.StatusCreated).json(t)
	if got["status"] != "active" {
		t.Errorf("stored status %v, want active", got["status"])
	}
	found := c.do("GET", "Subscription?status=active&type=rest-hook&url=https://gp.example.nhs.uk/hook&payload=application/fhir%2Bjson", nil).mustStatus(t, http.StatusOK).json(t)
	if found["total"] != float64(1) {
		t.Errorf("search by status, type, url and payload found %v, want 1", found["total"])
	}

	noStatus := strings.Replace(restHook, `"status":"requested",`, ``, 1)
	issues := c.do("POST", "Subscription", noStatus).mustStatus(t, http.StatusBadRequest).issues(t)
	if len(issues) != 1 || issues[0].Expression != "Subscription.status" || issues[0].Code != "required" {
		t.Errorf("a Subscription without status: %+v", issues)
	}
	websocket := strings.Replace(restHook, `"rest-hook"`, `"websocket"`, 1)
	issues = c.do("POST", "Subscription", websocket).mustStatus(t, http.StatusUnprocessableEntity).issues(t)
	if len(issues) != 1 || issues[0].Expression != "Subscription.channel.type" || issues[0].Code != "not-supported" {
		t.Errorf("a websocket Subscription: %+v", issues)
	}
	inBundle := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` +
		strings.Replace(restHook, `Task?owner`, `Task?colour`, 1) + `,"request":{"method":"PUT","url":"Subscription/s2"}}]}`
	issues = c.do("POST", "", strings.Replace(inBundle, `"id":"s1"`, `"id":"s2"`, 1)).mustStatus(t, http.StatusUnprocessableEntity).issues(t)
	if len(issues) != 1 || issues[0].Expression != "Bundle.entry[0].resource.criteria" {
		t.Errorf("bad criteria in a Bundle: %+v", issues)
	}
}

// paramsOf decodes a Parameters body into name -> values, each value
// the JSON of the parameter without its name.
func paramsOf(t *testing.T, r response) map[string][]map[string]any {
	t.Helper()
	body := r.json(t)
	if body["resourceType"] != "Parameters" {
		t.Fatalf("not Parameters: %s", r.body)
	}
	out := map[string][]map[string]any{}
	list, _ := body["parameter"].([]any)
	for _, p := range list {
		m := p.(map[string]any)
		out[m["name"].(string)] = append(out[m["name"].(string)], m)
	}
	return out
}

// partsOf returns a parameter's parts as name -> value.
func partsOf(p map[string]any) map[string]any {
	out := map[string]any{}
	for _, x := range p["part"].([]any) {
		m := x.(map[string]any)
		for k, v := range m {
			if k != "name" {
				out[m["name"].(string)] = v
			}
		}
	}
	return out
}

func TestOutboxListsNotificationsAndRedriveDeliversDeadOnesAgain(t *testing.T) {
	st := openSQLite(t)
	c := newServer(t, st, rest.Config{})
	c.do("PUT", "Subscription/s1", restHook).mustStatus(t, http.StatusCreated)
	for _, id := range []string{"t1", "t2"} {
		c.do("PUT", "Task/"+id, `{"resourceType":"Task","id":"`+id+`","status":"requested","intent":"order",
			"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A81001"}}}`).mustStatus(t, http.StatusCreated)
	}
	// Two notifications given up, as a worker would leave them.
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	dead := []store.OutboxEntry{
		{ID: "d1", Subscription: "s1", SubscriptionVersion: 1, Type: "Task", ResourceID: "t1", ResourceVersion: 1, Created: at,
			State: store.OutboxDead, Attempts: 12, NextAttempt: at, LastError: "HTTP 500 Internal Server Error"},
		{ID: "d2", Subscription: "s9", SubscriptionVersion: 1, Type: "Task", ResourceID: "t2", ResourceVersion: 1, Created: at,
			State: store.OutboxDead, Attempts: 12, NextAttempt: at, LastError: "HTTP 500 Internal Server Error"},
	}
	if err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error { return tx.AddOutbox(ctx, dead) }); err != nil {
		t.Fatal(err)
	}

	all := paramsOf(t, c.do("GET", "$outbox", nil).mustStatus(t, http.StatusOK))
	if n := all["count"][0]["valueInteger"]; n != float64(4) {
		t.Errorf("$outbox count = %v, want 4", n)
	}
	deadList := paramsOf(t, c.do("GET", "$outbox?state=dead", nil).mustStatus(t, http.StatusOK))
	if len(deadList["notification"]) != 2 {
		t.Fatalf("$outbox?state=dead lists %d notifications, want 2", len(deadList["notification"]))
	}
	d1 := partsOf(deadList["notification"][0])
	want := map[string]any{
		"id": "d1", "state": "dead", "attempts": float64(12), "lastError": "HTTP 500 Internal Server Error",
		"subscription": map[string]any{"reference": "Subscription/s1/_history/1"},
		"focus":        map[string]any{"reference": "Task/t1/_history/1"},
		"created":      "2026-11-01T09:00:00.000Z",
	}
	if diff := cmp.Diff(want, d1); diff != "" {
		t.Errorf("the first dead notification (-want +got):\n%s", diff)
	}
	page := paramsOf(t, c.do("GET", "$outbox?state=dead&_count=1", nil).mustStatus(t, http.StatusOK))
	next, _ := page["next"][0]["valueUri"].(string)
	if len(page["notification"]) != 1 || !strings.Contains(next, "after=d1") {
		t.Fatalf("first page of one: %v, next %q", page["notification"], next)
	}
	page = paramsOf(t, c.do("GET", next[strings.Index(next, "$outbox"):], nil).mustStatus(t, http.StatusOK))
	if len(page["notification"]) != 1 || partsOf(page["notification"][0])["id"] != "d2" || page["next"] != nil {
		t.Errorf("second page: %v", page)
	}

	redrive := `{"resourceType":"Parameters","parameter":[{"name":"notification","valueString":"d1"},{"name":"notification","valueString":"nope"}]}`
	done := paramsOf(t, c.do("POST", "$redrive", redrive).mustStatus(t, http.StatusOK))
	if done["redriven"][0]["valueInteger"] != float64(1) || done["notification"][0]["valueString"] != "d1" {
		t.Errorf("$redrive of d1 and nope: %v", done)
	}
	done = paramsOf(t, c.do("POST", "$redrive?subscription=s9", nil).mustStatus(t, http.StatusOK))
	if done["redriven"][0]["valueInteger"] != float64(1) {
		t.Errorf("$redrive?subscription=s9: %v", done)
	}
	if got := paramsOf(t, c.do("GET", "$outbox?state=dead", nil).mustStatus(t, http.StatusOK)); got["count"][0]["valueInteger"] != float64(0) {
		t.Errorf("after redriving both, dead: %v", got)
	}
	pending := paramsOf(t, c.do("GET", "$outbox?state=pending&subscription=s1", nil).mustStatus(t, http.StatusOK))
	if pending["count"][0]["valueInteger"] != float64(3) {
		t.Errorf("pending notifications of s1 after the redrive: %v, want 3", pending["count"])
	}

	for _, bad := range []struct {
		method, path, body, expr string
	}{
		{"GET", "$outbox?state=lost", "", "state"},
		{"GET", "$outbox?colour=red", "", "colour"},
		{"GET", "$outbox?_count=0", "", "_count"},
		{"POST", "$redrive", "", ""},
		{"POST", "$redrive?all=true&subscription=s1", "", ""},
		{"POST", "$redrive?all=maybe", "", "all"},
		{"POST", "$redrive", `{"resourceType":"Parameters","parameter":[{"name":"everything","valueBoolean":true}]}`, "Parameters.parameter[0]"},
		{"POST", "$redrive", `{"resourceType":"Patient"}`, "resourceType"},
	} {
		var body any
		if bad.body != "" {
			body = bad.body
		}
		issues := c.do(bad.method, bad.path, body).mustStatus(t, http.StatusBadRequest).issues(t)
		if issues[0].Expression != bad.expr {
			t.Errorf("%s %s: issue at %q, want %q (%s)", bad.method, bad.path, issues[0].Expression, bad.expr, issues[0].Diagnostics)
		}
	}
}
