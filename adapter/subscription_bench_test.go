package adapter_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
)

// BenchmarkTaskWriteWithSubscriptions measures one Task update through the
// Gateway, on SQLite and PostgreSQL: with no Subscription stored, with ten
// that match nothing, and with one that matches every Task (an outbox row
// each).
//
//	go test ./adapter -run '^$' -bench TaskWriteWithSubscriptions -benchtime 2000x -count 5
func BenchmarkTaskWriteWithSubscriptions(b *testing.B) {
	engines := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store { return openSQLiteStore(b) }},
		{"postgres", func(b *testing.B) store.Store {
			st, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.Database(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	subscriptions := []struct {
		name string
		add  func(t testing.TB, g *adapter.Gateway)
	}{
		{"none", func(testing.TB, *adapter.Gateway) {}},
		{"ten-idle", func(t testing.TB, g *adapter.Gateway) {
			for i := range 10 {
				update(t, g, subscription(fmt.Sprintf("idle%d", i), "requested", fmt.Sprintf("Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|Z9999%d", i)))
			}
		}},
		{"one-matching", func(t testing.TB, g *adapter.Gateway) {
			update(t, g, subscription("all", "requested", "Task"))
		}},
	}
	for _, e := range engines {
		for _, s := range subscriptions {
			b.Run(e.name+"/"+s.name, func(b *testing.B) {
				g := adapter.New(e.open(b), adapter.Config{})
				s.add(b, g)
				b.ResetTimer()
				for i := range b.N {
					// Every write is a new version: t0..t99 alternate
					// between two statuses every hundred writes.
					update(b, g, practiceTask(fmt.Sprintf("t%d", i%100), "A81001", []string{"requested", "accepted"}[i/100%2]))
				}
			})
		}
	}
}
