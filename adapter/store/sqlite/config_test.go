package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/carebridge/carebridge/adapter/store/storetest"
	"github.com/carebridge/carebridge/fhir"
)

func open(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "carebridge.db")
	}
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestWriterIsDurableWALWithForeignKeys(t *testing.T) {
	st := open(t, Config{})
	for name, want := range map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "2", // FULL
		"foreign_keys":       "1",
		"busy_timeout":       "5000",
		"wal_autocheckpoint": "16384",
	} {
		if got := pragma(t, st.writer, name); got != want {
			t.Errorf("writer: PRAGMA %s = %s, want %s", name, got, want)
		}
	}
	if got := pragma(t, st.reader, "query_only"); got != "1" {
		t.Errorf("reader: PRAGMA query_only = %s, want 1", got)
	}
	for _, db := range []*sql.DB{st.writer, st.reader} {
		if got := pragma(t, db, "mmap_size"); got == "0" {
			t.Errorf("PRAGMA mmap_size = %s, want the file mapped", got)
		}
	}
}

func TestSynchronousIsConfigurable(t *testing.T) {
	st := open(t, Config{Synchronous: "normal"})
	if got := pragma(t, st.writer, "synchronous"); got != "1" {
		t.Errorf("PRAGMA synchronous = %s, want 1 (NORMAL)", got)
	}
}

func TestOpenRefusesWhatWouldLoseOrScatterData(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []Config{
		{Path: ""},
		{Path: ":memory:"},
		{Path: "file:x.db?mode=memory"},
		{Path: filepath.Join(dir, "a?b.db")},
		{Path: filepath.Join(dir, "x.db"), Synchronous: "OFF"},
		{Path: filepath.Join(dir, "x.db"), Synchronous: "sometimes"},
	} {
		st, err := Open(context.Background(), cfg)
		if err == nil {
			st.Close()
			t.Errorf("Open(%+v) succeeded, want an error", cfg)
		} else if fhir.KindOf(err) != fhir.Internal {
			t.Errorf("Open(%+v): err = %v, want an Internal *fhir.Error", cfg, err)
		}
	}
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	st := open(t, Config{})
	for i := range 2 {
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate %d: %v", i+1, err)
		}
	}
}

// TestMigrationsGoDownAndUpAgain runs every migration's Down, then Up again.
func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	st := open(t, Config{})
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	tables := func() int {
		t.Helper()
		var n int
		err := st.writer.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema
			WHERE type = 'table' AND name IN ('versions', 'resources', 'sc_projection', 'sc_unmapped')`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tables(); n != 4 {
		t.Fatalf("after Migrate, %d of the 4 tables, want all", n)
	}
	p := migrationsOf(t, st)
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

func TestTheFeedMigrationEntersStoredTasks(t *testing.T) {
	st := open(t, Config{})
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := migrationsOf(t, st)
	storetest.CheckFeedBackfill(t, st, func(t *testing.T) {
		if _, err := p.DownTo(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// migrationsOf returns a goose provider of the migrations on st's writer.
func migrationsOf(t *testing.T, st *Store) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, st.writer, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
