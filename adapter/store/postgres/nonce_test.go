package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
)

// TestUseNonceForgetsExpiredKeys checks that expired keys do not pile up:
// each call forgets a few, so keys recorded already expired are gone.
func TestUseNonceForgetsExpiredKeys(t *testing.T) {
	url := pgtest.Database(t)
	st := openStore(t, url)
	ctx := context.Background()
	for i := range 100 {
		if _, err := st.UseNonce(ctx, fmt.Sprint("old-", i), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UseNonce(ctx, "live", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM nonce`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d keys kept, want 1: the live one", n)
	}
}
