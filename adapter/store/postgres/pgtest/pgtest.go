// Package pgtest gives each test its own PostgreSQL database with the
// current schema: a copy of a migrated template (CREATE DATABASE ...
// TEMPLATE), made in a fraction of a second and dropped when the test ends.
// It is for tests only.
//
// The server is named by the environment variable CAREBRIDGE_TEST_POSTGRES:
// the URL of a database on a server where tests may create databases, such as
// postgres://postgres@127.0.0.1:55432/postgres. Without it, tests that ask
// for a database are skipped, unless CI=true, where they fail: a green CI
// run must not hide skipped PostgreSQL tests.
//
// The template is named after a hash of the migrations
// (carebridge_template_<hash>), so that a schema change makes a new one. The
// first test process that needs it creates it, under an advisory lock that
// other processes (go test runs packages in parallel) wait on, and later runs
// reuse it.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres"
)

// EnvURL is the environment variable that names the test server.
const EnvURL = "CAREBRIDGE_TEST_POSTGRES"

// Open returns a store on a new, migrated database (see Database), closed
// when t ends.
func Open(t *testing.T) store.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Config{URL: Database(t), MaxConns: 8})
	if err != nil {
		t.Fatalf("pgtest: opening the test database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Database creates a new database with the current schema and returns its
// URL. The database is dropped when tb ends.
func Database(tb testing.TB) string {
	tb.Helper()
	return create(tb, true)
}

// EmptyDatabase creates a new database without any schema (for testing
// migrations) and returns its URL. The database is dropped when tb ends.
func EmptyDatabase(tb testing.TB) string {
	tb.Helper()
	return create(tb, false)
}

var (
	setup struct {
		once     sync.Once
		base     *url.URL
		template string
		err      error
	}
	seq atomic.Int64
)

// server returns the test server's URL and the template's name, creating the
// template on first use; it skips or fails tb when there is no server.
func server(tb testing.TB) (*url.URL, string) {
	tb.Helper()
	dsn := os.Getenv(EnvURL)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("pgtest: %s is not set, and CI=true: PostgreSQL tests must run in CI, not be skipped", EnvURL)
		}
		tb.Skipf("pgtest: %s is not set", EnvURL)
	}
	setup.once.Do(func() {
		setup.base, setup.err = url.Parse(dsn)
		if setup.err != nil {
			setup.err = fmt.Errorf("%s is not a URL", EnvURL)
			return
		}
		setup.template, setup.err = makeTemplate(setup.base)
	})
	if setup.err != nil {
		tb.Fatalf("pgtest: %v", setup.err)
	}
	return setup.base, setup.template
}

// withDatabase returns base with another database name.
func withDatabase(base *url.URL, name string) string {
	u := *base
	u.Path = "/" + name
	return u.String()
}

// makeTemplate creates the template database for the current migrations,
// unless it exists, and returns its name.
func makeTemplate(base *url.URL) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base.String())
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	// One process at a time checks and builds; the lock ends with the session.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('carebridge pgtest template'))`); err != nil {
		return "", err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under a temporary name, so that a template is never seen half
	// migrated, then rename it and close it to connections.
	building := name + "_building"
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	st, err := postgres.Open(ctx, postgres.Config{URL: withDatabase(base, building), MaxConns: 2})
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", fmt.Errorf("migrating the template: %v", err)
	}
	for _, q := range []string{
		`ALTER DATABASE ` + building + ` RENAME TO ` + name,
		`ALTER DATABASE ` + name + ` WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return "", err
		}
	}
	return name, nil
}

// templateName is carebridge_template_ and the start of a SHA-256 of the
// migration files' names and contents.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(postgres.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(postgres.Migrations(), path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "carebridge_template_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// create makes a database for tb, from the template when migrated.
func create(tb testing.TB, migrated bool) string {
	tb.Helper()
	base, template := server(tb)
	name := fmt.Sprintf("carebridge_test_%d_%d", os.Getpid(), seq.Add(1))
	q := `CREATE DATABASE ` + name
	if migrated {
		q += ` TEMPLATE ` + template
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base.String())
	if err != nil {
		tb.Fatalf("pgtest: connecting to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	// Copies of one template may collide ("source database is being
	// accessed by other users") while another process copies it too.
	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, q)
		if err == nil || attempt == 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", q, err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base.String())
		if err != nil {
			tb.Errorf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}
