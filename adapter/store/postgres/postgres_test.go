package postgres_test

import (
	"context"
	"database/sql"
	"io/fs"
	"slices"
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

// openDB opens the database at url through database/sql, as goose needs
// it, and closes it when t ends.
func openDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}

// openStore opens the database at url, and closes it when t ends.
func openStore(t testing.TB, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestVersionsRecordTheirTransaction(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	st := openStore(t, url)
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
	db := openDB(t, url)
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

// TestTaskFeedKeepsAChangeThatCommitsAfterALaterOne shows, step by step,
// why the Task feed is ordered by transaction and cut at the snapshot's
// horizon rather than read by seq: transaction A writes first (the lower
// seq) and commits last. A reader following seq sees B, moves past A's seq,
// and never sees A. The feed holds B back until A has ended, then gives A
// and B in order.
func TestTaskFeedKeepsAChangeThatCommitsAfterALaterOne(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	st := openStore(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const owner = "https://fhir.nhs.uk/Id/ods-organization-code|A81001"
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	write := func(ctx context.Context, tx store.Tx, id string) error {
		err := tx.Put(ctx, []store.Write{{Type: "Task", ID: id, VersionID: 1, LastUpdated: at, Method: "POST",
			Body: []byte(`{"resourceType":"Task"}`), Index: &fhir.Index{}}})
		if err != nil {
			return err
		}
		return tx.PutTaskFeed(ctx, []store.TaskFeedRow{{Owner: owner, ID: id, VersionID: 1, Status: "requested"}})
	}
	// seqAfter is a plain seq cursor's poll: the committed Task versions
	// after seq, in seq order.
	seqAfter := func(seq int64) (ids []string, last int64) {
		rows, err := conn.Query(ctx, `SELECT id, seq FROM versions WHERE type = 'Task' AND seq > $1 ORDER BY seq`, seq)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		last = seq
		for rows.Next() {
			var id string
			if err := rows.Scan(&id, &last); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids, last
	}

	aWrote, releaseA, aDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		aDone <- st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := write(ctx, tx, "a"); err != nil {
				return err
			}
			close(aWrote)
			<-releaseA
			return nil
		})
	}()
	<-aWrote
	if err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error { return write(ctx, tx, "b") }); err != nil {
		close(releaseA)
		t.Fatal(err)
	}

	seqSeen, seqCursor := seqAfter(0)
	page, err := st.TaskFeed(ctx, store.TaskFeedQuery{Owner: owner, Count: 10})
	if err != nil {
		close(releaseA)
		t.Fatal(err)
	}
	close(releaseA)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqSeen, []string{"b"}) {
		t.Fatalf("while A is open, a seq cursor sees %v, want b", seqSeen)
	}
	if len(page.Entries) != 0 {
		t.Errorf("while A is open, the feed shows %d entries, want none: B must wait for A", len(page.Entries))
	}
	if lost, _ := seqAfter(seqCursor); len(lost) != 0 {
		t.Fatalf("after A commits, the seq cursor sees %v; the test expects it to have passed A", lost)
	}

	// The feed, from where it stopped, gives A then B (as soon as every
	// transaction older than them, of any test on this server, has ended).
	var got []string
	after := page.Next
	for deadline := time.Now().Add(30 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		p, err := st.TaskFeed(ctx, store.TaskFeedQuery{Owner: owner, After: after, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			got = append(got, e.Version.ID)
		}
		after = p.Next
		time.Sleep(5 * time.Millisecond)
	}
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("the feed gave %v, want a then b", got)
	}
}

func TestTheFeedMigrationEntersStoredTasks(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	st := openStore(t, url)
	p, err := goose.NewProvider(goose.DialectPostgres, openDB(t, url), postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckFeedBackfill(t, st, func(t *testing.T) {
		if _, err := p.DownTo(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTwoGatewaysUseAKeyOnce runs UseNonce from two stores on one
// database, as two gateways would.
func TestTwoGatewaysUseAKeyOnce(t *testing.T) {
	url := pgtest.Database(t)
	storetest.CheckNonceAcrossStores(t, openStore(t, url), openStore(t, url))
}
