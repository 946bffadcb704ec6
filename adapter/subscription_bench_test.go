package adapter_test

import (
	"fmt"
	"testing"

	"github.com/carebridge/carebridge/adapter"
)

// BenchmarkTaskWriteWithSubscriptions measures one Task update through the
// Gateway on SQLite: with no Subscription stored, with ten that match
// nothing, and with one that matches every Task (an outbox row each).
//
//	go test ./adapter -run '^$' -bench TaskWriteWithSubscriptions -benchtime 2000x -count 5
func BenchmarkTaskWriteWithSubscriptions(b *testing.B) {
	for _, c := range []struct {
		name string
		subs func(t testing.TB, g *adapter.Gateway)
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
	} {
		b.Run(c.name, func(b *testing.B) {
			st := openSQLiteStore(b)
			g := adapter.New(st, adapter.Config{})
			c.subs(b, g)
			b.ResetTimer()
			for i := range b.N {
				update(b, g, practiceTask(fmt.Sprintf("t%d", i%100), "A81001", []string{"requested", "accepted"}[i/100%2]))
			}
		})
	}
}
