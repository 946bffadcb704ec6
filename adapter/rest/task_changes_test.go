package rest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/fhir"
)

const (
	odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"
	practiceA = odsSystem + "|A81001"
	practiceB = odsSystem + "|B82002"
)

// taskBody is a Task owned by owner (a Reference's JSON), in status.
func taskBody(id, status, owner string) string {
	idPart := ""
	if id != "" {
		idPart = `"id":"` + id + `",`
	}
	reason := ""
	if status == "completed" || status == "rejected" || status == "failed" {
		reason = `"statusReason":{"text":"recorded in the practice system"},` // the Task workflow asks for one
	}
	return `{"resourceType":"Task",` + idPart + `"status":"` + status + `",` + reason + `"intent":"order","for":{"reference":"Patient/p1"},"owner":` + owner + `}`
}

// byODS is an owner reference by ODS code.
func byODS(code string) string {
	return `{"identifier":{"system":"` + odsSystem + `","value":"` + code + `"}}`
}

// change is a feed entry as the tests compare it.
type change struct {
	Method, URL, Status, Etag string
	Resource                  bool // the entry carries the resource
}

// changesPage is one page of $changes as the tests read it.
type changesPage struct {
	changes []change
	ids     []string // the Task id of each change
	self    string
	next    string // the next link, relative to the FHIR base
}

// readChanges GETs a $changes path (relative to the FHIR base) and reads
// the history Bundle.
func readChanges(t *testing.T, c *client, path string, headers ...string) (changesPage, response) {
	t.Helper()
	r := c.do("GET", path, nil, headers...).mustStatus(t, http.StatusOK)
	b := r.json(t)
	if b["type"] != "history" {
		t.Fatalf("not a history Bundle: %s", r.body)
	}
	var p changesPage
	p.self, p.next = link(t, r, "self"), link(t, r, "next")
	if p.next == "" {
		t.Fatalf("no next link: %s", r.body)
	}
	p.next = strings.TrimPrefix(p.next, c.base+"/")
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		em := e.(map[string]any)
		req, res := em["request"].(map[string]any), em["response"].(map[string]any)
		_, hasResource := em["resource"]
		p.changes = append(p.changes, change{req["method"].(string), req["url"].(string), res["status"].(string), res["etag"].(string), hasResource})
		full := em["fullUrl"].(string)
		p.ids = append(p.ids, full[strings.LastIndex(full, "/")+1:])
	}
	return p, r
}

// follow reads pages from path on until it has n changes, and returns them
// and the last page's next link. It asks each page to wait for changes:
// on PostgreSQL a change shows only once every transaction older than it
// has ended, and tests of other packages may hold one open a moment.
func follow(t *testing.T, c *client, path string, n int) ([]change, []string, string) {
	t.Helper()
	var all []change
	var ids []string
	for len(all) < n {
		p, _ := readChanges(t, c, path, "Prefer", "wait=10")
		if len(p.changes) == 0 {
			t.Fatalf("after %d changes (%v), no more within 10s; want %d", len(all), all, n)
		}
		all, ids, path = append(all, p.changes...), append(ids, p.ids...), p.next
	}
	return all, ids, path
}

func changesPath(owner string, extra ...string) string {
	q := url.Values{"owner": {owner}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "Task/$changes?" + q.Encode()
}

func TestTaskChangesFollowAnOwnersTasksInCommitOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		t1 := create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
		t2 := create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
		create(t, c, "Task", taskBody("", "requested", byODS("B82002")))
		c.do("PUT", "Task/"+t1, taskBody(t1, "cancelled", byODS("A81001"))).mustStatus(t, http.StatusOK) // finished, so it may be deleted
		c.do("PUT", "Task/"+t2, taskBody(t2, "requested", byODS("B82002"))).mustStatus(t, http.StatusOK) // moves to B
		c.do("DELETE", "Task/"+t1, nil).mustStatus(t, http.StatusNoContent)

		got, ids, end := follow(t, c, changesPath(practiceA, "_count", "2"), 5)
		want := []change{
			{"POST", "Task", "201 Created", `W/"1"`, true},
			{"POST", "Task", "201 Created", `W/"1"`, true},
			{"PUT", "Task/" + t1, "200 OK", `W/"2"`, true},
			{"PUT", "Task/" + t2, "200 OK", `W/"2"`, true},
			{"DELETE", "Task/" + t1, "204 No Content", `W/"3"`, false},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("changes of A81001 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{t1, t2, t1, t2, t1}, ids); diff != "" {
			t.Errorf("Tasks of the changes (-want +got):\n%s", diff)
		}

		// The cursor of the last page picks up exactly what comes next.
		t3 := create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
		p, _ := readChanges(t, c, end, "Prefer", "wait=10")
		if diff := cmp.Diff([]string{t3}, p.ids); diff != "" {
			t.Errorf("after the end, the next link returns (-want +got):\n%s", diff)
		}
		if p.next == end {
			t.Errorf("the next link did not move on after a change")
		}

		// B sees its own Task and the one that moved to it.
		_, idsB, _ := follow(t, c, changesPath(practiceB), 2)
		if len(idsB) != 2 || idsB[1] != t2 {
			t.Errorf("changes of B82002 = %v, want its own Task, then %s", idsB, t2)
		}

		// A status filter keeps what is in those statuses now.
		_, requested, _ := follow(t, c, changesPath(practiceA, "status", "requested"), 4)
		if diff := cmp.Diff([]string{t1, t2, t2, t3}, requested); diff != "" {
			t.Errorf("requested changes of A81001 (-want +got):\n%s", diff)
		}
	})
}

func TestTaskChangesLinkLiteralOwnersToTheirIdentifiers(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		org := create(t, c, "Organization", `{"resourceType":"Organization","identifier":[{"system":"`+odsSystem+`","value":"A81001"}],"name":"Riverside Surgery"}`)
		task := create(t, c, "Task", taskBody("", "requested", `{"reference":"Organization/`+org+`"}`))
		for _, owner := range []string{practiceA, "Organization/" + org} {
			if _, ids, _ := follow(t, c, changesPath(owner), 1); !cmp.Equal(ids, []string{task}) {
				t.Errorf("changes of %s = %v, want %s", owner, ids, task)
			}
		}
	})
}

func TestTaskChangesRefuseBadParameters(t *testing.T) {
	c := newServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 1 << 20})
	for _, tc := range []struct {
		query      string
		expression string
	}{
		{changesPath(practiceA, "cursor", "not-a-cursor"), "cursor"},
		{changesPath(practiceA, "cursor", fhir.EncodePageToken(fhir.PageToken{Key: 42})), "cursor"}, // a search's page token
		{"Task/$changes", "owner"},
		{changesPath("A81001"), "owner"},
		{changesPath(odsSystem + "|"), "owner"},
		{changesPath(practiceA, "status", "requested,done"), "status"},
		{changesPath(practiceA, "_count", "0"), "_count"},
		{changesPath(practiceA, "_since", "2025-01-01"), "_since"},
		{changesPath(practiceA) + "&owner=" + url.QueryEscape(practiceB), "owner"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := c.do("GET", tc.query, nil).mustStatus(t, http.StatusBadRequest)
			if is := r.issues(t); len(is) != 1 || is[0].Expression != tc.expression {
				t.Errorf("issues = %+v, want one about %s", is, tc.expression)
			}
		})
	}
}

func TestTaskChangesLongPoll(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
		_, _, end := follow(t, c, changesPath(practiceA), 1)

		t.Run("an empty page waits for a change and returns as soon as one commits", func(t *testing.T) {
			type result struct {
				body []byte
				err  error
				at   time.Time
			}
			done := make(chan result, 1)
			go func() {
				body, err := get(c.base+"/"+end, "Prefer", "wait=20")
				done <- result{body, err, time.Now()}
			}()
			// Give the request a moment to start waiting. Should the write
			// land first, the poll returns it at once: the assertions hold
			// either way.
			time.Sleep(200 * time.Millisecond)
			wrote := time.Now()
			task := create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
			select {
			case r := <-done:
				if r.err != nil {
					t.Fatal(r.err)
				}
				if !strings.Contains(string(r.body), `"fullUrl":"`+c.base+`/Task/`+task+`"`) || strings.Count(string(r.body), `"fullUrl"`) != 1 {
					t.Errorf("the long poll returned %s, want only %s", r.body, task)
				}
				// Woken by the commit, not by the once-a-second look, which
				// comes 800ms after the write. (On PostgreSQL a transaction
				// of another test may hold the change back a moment: then
				// it must come before the wait is over.)
				d, limit := r.at.Sub(wrote), 500*time.Millisecond
				if c.engine == "postgres" {
					limit = 10 * time.Second
				}
				if d > limit {
					t.Errorf("the long poll answered %s after the write", d)
				}
				t.Logf("answered %s after the write", d)
			case <-time.After(15 * time.Second):
				t.Fatal("the long poll did not return after a write")
			}
		})

		t.Run("with nothing to come, it returns an empty page and its next link after the wait", func(t *testing.T) {
			_, _, end := follow(t, c, changesPath(practiceA), 2)
			start := time.Now()
			p, r := readChanges(t, c, end, "Prefer", "wait=1")
			if d := time.Since(start); d < time.Second || d > 5*time.Second {
				t.Errorf("answered after %s, want about a second", d)
			}
			if len(p.changes) != 0 || p.next == "" {
				t.Errorf("page = %+v, want no changes and a next link", p)
			}
			if got := r.header.Get("Preference-Applied"); got != "wait=1" {
				t.Errorf("Preference-Applied = %q, want wait=1", got)
			}
		})

		t.Run("a client that goes away ends the wait", func(t *testing.T) {
			_, _, end := follow(t, c, changesPath(practiceA), 2)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				_, err := getContext(ctx, c.base+"/"+end, "Prefer", "wait=30")
				errc <- err
			}()
			time.Sleep(200 * time.Millisecond) // let the request start waiting
			cancel()
			<-errc
			// The server answers the abandoned request (503, logged as
			// abandoned) long before its 30 seconds are up.
			metric := `carebridge_http_requests_total{method="GET",route="/fhir/Task/$changes",status="503"} 1`
			for deadline := time.Now().Add(10 * time.Second); ; {
				if strings.Contains(string(c.do("GET", "/metrics", nil).body), metric) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no abandoned $changes request in the metrics after 10s; want %s", metric)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	})
}

// get is a GET that a goroutine other than the test's may send.
func get(u string, headers ...string) ([]byte, error) {
	return getContext(context.Background(), u, headers...)
}

func getContext(ctx context.Context, u string, headers ...string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %s", u, res.StatusCode, body)
	}
	return body, err
}

func TestTaskChangesPreferWaitIsCapped(t *testing.T) {
	c := newServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 1 << 20})
	create(t, c, "Task", taskBody("", "requested", byODS("A81001")))
	// A page with changes does not wait, and says what wait applied.
	_, r := readChanges(t, c, changesPath(practiceA), "Prefer", "wait=3600")
	if got, want := r.header.Get("Preference-Applied"), fmt.Sprintf("wait=%d", 60); got != want {
		t.Errorf("Preference-Applied = %q, want %q", got, want)
	}
	if _, r := readChanges(t, c, changesPath(practiceA), "Prefer", "wait=soon"); r.header.Get("Preference-Applied") != "" {
		t.Errorf("a wait that is not a number was applied: %q", r.header.Get("Preference-Applied"))
	}
}

// TestTaskChangesShutdownEndsLongPolls checks that a gateway asked to stop
// answers its waiting long polls at once, with an empty page, instead of
// holding the shutdown for as long as they would wait.
func TestTaskChangesShutdownEndsLongPolls(t *testing.T) {
	gw := adapter.New(openSQLite(t), adapter.Config{Location: time.UTC})
	reg := prometheus.NewRegistry()
	srv, err := rest.NewServer(rest.Config{MaxBodyBytes: 1 << 20}, gw, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer stop()

	type answer struct {
		body []byte
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		body, err := get("http://"+l.Addr().String()+"/fhir/"+changesPath(practiceA), "Prefer", "wait=30")
		answered <- answer{body, err}
	}()
	time.Sleep(200 * time.Millisecond) // let the poll start waiting; it must end either way
	stopped := time.Now()
	stop()
	select {
	case a := <-answered:
		if a.err != nil {
			t.Fatalf("the long poll failed: %v", a.err)
		}
		if !strings.Contains(string(a.body), `"type":"history"`) || strings.Contains(string(a.body), `"entry"`) {
			t.Errorf("the long poll answered %s, want an empty history page", a.body)
		}
		if d := time.Since(stopped); d > 5*time.Second {
			t.Errorf("the long poll answered %s after the stop", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll was not answered after the stop")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
