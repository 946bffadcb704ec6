package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store/postgres"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/storetest"
)

func openBench(b *testing.B) (*postgres.Store, string) {
	url := pgtest.Database(b)
	return openStore(b, url), url
}

func BenchmarkPutBundle(b *testing.B) {
	st, _ := openBench(b)
	storetest.BenchmarkPutBundle(b, st)
}

func BenchmarkSearchTasks(b *testing.B) {
	st, url := openBench(b)
	// After a bulk load, gather the statistics autovacuum would gather a
	// minute later; without them the planner guesses one row everywhere.
	analyze := func(b *testing.B) {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchmarkSearchTasks(b, st, 20000, analyze)
}
