package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// send makes a FHIR request and returns the status and the decoded body.
func send(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	return resp.StatusCode, m
}

// outboxIDs returns the ids $outbox lists in a state.
func outboxIDs(t *testing.T, base, state string) []string {
	t.Helper()
	var ids []string
	params, _ := getJSON(t, base+"/fhir/$outbox?state="+state)["parameter"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["name"] != "notification" {
			continue
		}
		for _, part := range p["part"].([]any) {
			if part := part.(map[string]any); part["name"] == "id" {
				ids = append(ids, part["valueString"].(string))
			}
		}
	}
	return ids
}

// waitFor polls cond every 20ms for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeDeliversAndDeadNotificationsAreRedrivenByAPIAndCLI runs the
// gateway with fast delivery settings against a receiver that fails until
// the test fixes it: both notifications die, the Subscription shows the
// error, and redriving one through $redrive and the other with
// carebridge outbox redrive delivers them.
func TestServeDeliversAndDeadNotificationsAreRedrivenByAPIAndCLI(t *testing.T) {
	var mu sync.Mutex
	failing := true
	received := map[string]bool{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		received[r.Header.Get("X-CareBridge-Notification-Id")] = true
	}))
	defer rcv.Close()

	db := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	s := start(t, noEnv, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--db", db,
		"--delivery-max-attempts", "2", "--delivery-backoff-base", "10ms", "--delivery-backoff-cap", "20ms",
		"--delivery-attempt-timeout", "1s", "--delivery-poll-interval", "20ms", "--delivery-lease", "5s")
	sub := `{"resourceType":"Subscription","id":"s1","status":"requested","reason":"test","criteria":"Task?status=requested",
		"channel":{"type":"rest-hook","endpoint":"` + rcv.URL + `/hook"}}`
	if status, body := send(t, "PUT", s.base+"/fhir/Subscription/s1", sub); status != http.StatusCreated {
		t.Fatalf("PUT Subscription = %d %v", status, body)
	}
	for _, id := range []string{"t1", "t2"} {
		task := `{"resourceType":"Task","id":"` + id + `","status":"requested","intent":"order"}`
		if status, body := send(t, "PUT", s.base+"/fhir/Task/"+id, task); status != http.StatusCreated {
			t.Fatalf("PUT Task = %d %v", status, body)
		}
	}
	waitFor(t, "both notifications are dead", func() bool { return len(outboxIDs(t, s.base, "dead")) == 2 })
	subscription := getJSON(t, s.base+"/fhir/Subscription/s1")
	if subscription["status"] != "error" || !strings.Contains(subscription["error"].(string), "HTTP 502") {
		t.Errorf("Subscription status %v, error %v; want error with the receiver's answer", subscription["status"], subscription["error"])
	}
	if n := strings.Count(s.stderr.String(), `"msg":"notification given up`); n != 2 {
		t.Errorf("%d final failure log lines, want 2:\n%s", n, s.stderr)
	}

	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"outbox", "list", "--dead", "--db", db}, noEnv, &out, &errs); err != nil {
		t.Fatalf("outbox list: %v\n%s", err, errs.String())
	}
	dead := outboxIDs(t, s.base, "dead")
	for _, id := range dead {
		if !regexp.MustCompile(id + `\s+dead\s+s1\s+Task/t\d/_history/1\s+2\s`).MatchString(out.String()) {
			t.Errorf("outbox list --dead does not show %s:\n%s", id, out.String())
		}
	}

	mu.Lock()
	failing = false
	mu.Unlock()
	redrive := `{"resourceType":"Parameters","parameter":[{"name":"notification","valueString":"` + dead[0] + `"}]}`
	if status, body := send(t, "POST", s.base+"/fhir/$redrive", redrive); status != http.StatusOK {
		t.Fatalf("$redrive = %d %v", status, body)
	}
	out.Reset()
	if err := run(context.Background(), []string{"outbox", "redrive", "--subscription", "s1", "--db", db}, noEnv, &out, &errs); err != nil {
		t.Fatalf("outbox redrive: %v\n%s", err, errs.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "redriven 1 notification: "+dead[1]) {
		t.Errorf("outbox redrive printed %q, want %s redriven", got, dead[1])
	}
	waitFor(t, "both notifications are delivered", func() bool { return len(outboxIDs(t, s.base, "delivered")) == 2 })
	mu.Lock()
	if !received[dead[0]] || !received[dead[1]] {
		t.Errorf("the receiver got %v, want %v", received, dead)
	}
	mu.Unlock()
	if subscription := getJSON(t, s.base+"/fhir/Subscription/s1"); subscription["status"] != "active" {
		t.Errorf("after delivery the Subscription is %v, want active", subscription["status"])
	}
	if err := run(context.Background(), []string{"outbox", "redrive", "--db", db}, noEnv, &out, &errs); err == nil || !strings.Contains(err.Error(), "name the notifications") {
		t.Errorf("outbox redrive without a selection = %v", err)
	}
	if err := s.wait(t); err != nil {
		t.Errorf("serve returned %v", err)
	}
}
