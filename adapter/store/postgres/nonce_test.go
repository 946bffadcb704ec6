package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/storetest"
)

func TestUseNonceForgetsExpiredKeys(t *testing.T) {
	url := pgtest.Database(t)
	storetest.CheckExpiredNoncesForgotten(t, openStore(t, url), func(t *testing.T) int {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM nonce`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
}
