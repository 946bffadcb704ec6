package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/adapter/store/storetest"
)

// openTest opens a new, migrated database file in t's temporary directory.
func openTest(t testing.TB, cfg sqlite.Config) *sqlite.Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "carebridge.db")
	}
	st, err := sqlite.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, sqlite.Config{}) })
}

// TestUseNonceForgetsExpiredKeys checks that expired keys do not pile up:
// each call forgets a few, so keys recorded already expired are gone.
func TestUseNonceForgetsExpiredKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carebridge.db")
	st := openTest(t, sqlite.Config{Path: path})
	ctx := context.Background()
	for i := range 100 {
		if _, err := st.UseNonce(ctx, fmt.Sprint("old-", i), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UseNonce(ctx, "live", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM nonce`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d keys kept, want 1: the live one", n)
	}
}
