package adapter_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebridge/carebridge/fhir"
)

// TestCommittedWakesWaiters checks that a committed write closes the
// channel Committed returned before it, and that a failed one does not.
func TestCommittedWakesWaiters(t *testing.T) {
	g := newGateway(t, openSQLiteStore(t))
	ctx := context.Background()
	woken := g.Committed()

	bad, err := fhir.ParseJSON([]byte(`{"resourceType":"Organization","id":"o1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Update(ctx, "Organization", "o2", bad, ""); err == nil {
		t.Fatal("an update whose id is not the URL's was accepted")
	}
	select {
	case <-woken:
		t.Fatal("a refused write woke the waiters")
	default:
	}
	if _, err := g.Update(ctx, "Organization", "o1", bad, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("a committed write did not wake the waiters")
	}
	select {
	case <-g.Committed():
		t.Fatal("the next commit's channel is already closed")
	default:
	}
}
