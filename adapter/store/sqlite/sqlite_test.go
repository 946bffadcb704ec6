package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

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

func TestUseNonceForgetsExpiredKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carebridge.db")
	storetest.CheckExpiredNoncesForgotten(t, openTest(t, sqlite.Config{Path: path}), func(t *testing.T) int {
		db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM nonce`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
}
