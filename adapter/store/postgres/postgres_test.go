package postgres_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/storetest"
	"github.com/carebridge/carebridge/fhir"
)

// Every test gets its own database from pgtest: a copy of a migrated
// template, dropped when the test ends. Without CAREBRIDGE_TEST_POSTGRES
// they skip, or fail when CI=true.

func TestContract(t *testing.T) {
	storetest.Run(t, pgtest.Open)
}

func TestMigrateFromSeveralGatewaysAtOnce(t *testing.T) {
	url := pgtest.EmptyDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			st, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			errs <- st.Migrate(ctx)
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(postgres.Migrations(), "*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("migration files %v, %v; want at least 00001 and 00002", files, err)
	}
	if applied != len(files) {
		t.Errorf("%d migrations recorded, want %d: each applied once", applied, len(files))
	}
	var txid bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'versions' AND column_name = 'txid' AND data_type = 'xid8')`).Scan(&txid); err != nil || !txid {
		t.Errorf("versions.txid xid8: %v, %v; want the column", txid, err)
	}
}

func TestVersionsRecordTheirTransaction(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, ids := range [][]string{{"a", "b"}, {"c"}} {
		err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			var ws []store.Write
			for _, id := range ids {
				ws = append(ws, store.Write{Type: "Patient", ID: id, VersionID: 1, LastUpdated: at, Method: "POST",
					Body: []byte(`{"resourceType":"Patient"}`), Index: &fhir.Index{}})
			}
			return tx.Put(ctx, ws)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	txids := map[string]uint64{}
	rows, err := conn.Query(ctx, `SELECT id, txid::text::bigint FROM versions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var txid uint64
		if err := rows.Scan(&id, &txid); err != nil {
			t.Fatal(err)
		}
		txids[id] = txid
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if txids["a"] == 0 || txids["a"] != txids["b"] || txids["c"] <= txids["a"] {
		t.Errorf("txids %v: want a and b to share one, and c's to be higher", txids)
	}
}

// TestMigrationsGoDownAndUpAgain runs every migration's Down, then Up again.
func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	url := pgtest.EmptyDatabase(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	tables := func() int {
		t.Helper()
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
			AND table_name IN ('versions', 'resources', 'sc_projection', 'sc_unmapped')`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tables(); n != 4 {
		t.Fatalf("after Migrate, %d of the 4 tables, want all", n)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to nothing: %v", err)
	}
	if n := tables(); n != 0 {
		t.Errorf("after every Down, %d tables left, want 0", n)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after Down: %v", err)
	}
	if n := tables(); n != 4 {
		t.Errorf("after Migrate again, %d of the 4 tables, want all", n)
	}
}
