package adapter_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
)

// changes follows a practice's Task feed from cursor until it has n
// changes, and returns "id status" of each and the last Next. Each page
// may wait a little: on PostgreSQL a change shows once every older
// transaction on the server has ended.
func changes(t *testing.T, gw *adapter.Gateway, owner, cursor string, n int) ([]string, string) {
	t.Helper()
	var got []string
	for len(got) < n {
		params := url.Values{"owner": {owner}, "_count": {"4"}}
		if cursor != "" {
			params.Set("cursor", cursor)
		}
		wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		page, err := gw.TaskChanges(context.Background(), params, wait)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Changes) == 0 {
			t.Fatalf("after %v, no more changes within 10s; want %d", got, n)
		}
		for _, e := range page.Changes {
			got = append(got, e.Version.ID+" "+e.Status)
		}
		cursor = page.Next
	}
	return got, cursor
}

// TestHealthCheckTasksReachThePracticesFeed checks that the Tasks the
// gateway raises and closes itself go through the feed like a sender's.
func TestHealthCheckTasksReachThePracticesFeed(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newCheckGateway(t, st)
		put(t, gw, gpSource, gpPatient...)
		owner := odsSystem + "|" + practice
		raised, cursor := changes(t, gw, owner, "", 6)
		for _, c := range raised {
			if !strings.HasSuffix(c, " requested") {
				t.Errorf("raised %q, want a requested Task", c)
			}
		}
		// The GP records a BMI: the BMI Task's completion is the next change.
		put(t, gw, gpSource, observation("bmi1", "60621009", "2026-06-10", 23.1, "kg/m2"))
		closed, _ := changes(t, gw, owner, cursor, 1)
		if len(closed) != 1 || !strings.HasSuffix(closed[0], " completed") {
			t.Errorf("after the BMI, the feed gave %v, want one completed Task", closed)
		}
	})
}
