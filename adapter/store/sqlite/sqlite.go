// Package sqlite is CareBridge's embedded store: store.Store on one SQLite
// database file, through modernc.org/sqlite (pure Go, so the binary builds
// with CGO_ENABLED=0). It owns its SQL and its migrations; the search
// fragments it shares with the PostgreSQL engine come from
// adapter/store/internal/sqlindex. It holds no rules: what to write is decided
// by its caller (adapter.Gateway).
//
// # Concurrency
//
// The database runs in WAL mode. Every write goes through one connection, and
// Transact opens its transactions with BEGIN IMMEDIATE: write transactions
// run one after another, take SQLite's write lock when they begin, and so
// never fail with SQLITE_BUSY halfway. Reads outside a transaction (Read,
// VRead, History, Search) use a pool of read-only connections that, in WAL
// mode, neither wait for the writer nor block it. Since writers are
// serialised, Tx.Lock has nothing to do, and the versions table's
// AUTOINCREMENT seq is commit-ordered. busy_timeout only matters when another
// process opens the same file, which is not a supported deployment.
//
// A Transact fn must not call Transact itself: the one writer connection is
// busy with the outer transaction, so the inner call would wait forever (or
// until its context ends).
//
// # Durability
//
// synchronous=FULL by default: once Transact returns nil the transaction
// survives a power cut. Config.Synchronous may lower it to NORMAL, with which
// WAL mode stays consistent but the last transactions before a power cut or
// OS crash may be lost; a clinical gateway that has acknowledged a write must
// not do that, so NORMAL is for tests and benchmarks. OFF is refused.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

//go:embed migrations/*.sql
var migrations embed.FS

// walCheckpointPages is the WAL size, in pages (64 MiB), at which a commit
// copies the WAL back into the database file. SQLite's default of 1000
// pages checkpoints every few Bundles, because a search index dirties
// hundreds of pages per Bundle; a larger WAL copies a page that many commits
// rewrote once, at the price of a longer pause in the commit that crosses the
// mark. journal_size_limit then trims the WAL file back to the same size.
const walCheckpointPages = 16384

// Config says where the database is and how to run it.
type Config struct {
	// Path is the database file, created when absent. It must be a file:
	// WAL needs one, and every connection to ":memory:" would open its own
	// empty database.
	Path string
	// Synchronous is SQLite's synchronous setting for writes: "FULL" (the
	// default when empty), "EXTRA" or "NORMAL". See the package
	// documentation before choosing NORMAL.
	Synchronous string
	// BusyTimeout bounds how long a connection waits for a lock held by
	// another process; 5s when zero.
	BusyTimeout time.Duration
	// Readers is the number of read-only connections; max(4, GOMAXPROCS)
	// when zero.
	Readers int
	// CacheKiB is the page cache of each connection, in KiB; 32768 when zero.
	CacheKiB int
}

// Store is a store.Store on one SQLite file. Open one per file per process.
type Store struct {
	writer *sql.DB // one connection, BEGIN IMMEDIATE transactions
	reader *sql.DB // query_only connections

	mu    sync.Mutex
	stmts *statements // prepared on first use, after Migrate
}

var _ store.Store = (*Store)(nil)

// mmapBytes is how much of the file each connection maps.
const mmapBytes = 1 << 34

// Open opens (creating if needed) the database at cfg.Path. Call Migrate
// before the first transaction.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" || cfg.Path == ":memory:" || strings.HasPrefix(cfg.Path, "file:") || strings.ContainsAny(cfg.Path, "?#") {
		return nil, fhir.Wrap(errors.New("sqlite: Path must be a plain file path"), "open database")
	}
	synchronous := strings.ToUpper(cfg.Synchronous)
	switch synchronous {
	case "":
		synchronous = "FULL"
	case "FULL", "EXTRA", "NORMAL":
	default:
		return nil, fhir.Wrap(fmt.Errorf("sqlite: synchronous %q is not one of FULL, EXTRA, NORMAL", cfg.Synchronous), "open database")
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	readers := cfg.Readers
	if readers <= 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}
	cache := cfg.CacheKiB
	if cache <= 0 {
		cache = 32768
	}

	common := url.Values{}
	common.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	common.Add("_pragma", "cache_size(-"+strconv.Itoa(cache)+")")
	common.Add("_pragma", "temp_store(MEMORY)")
	// Connections map the file rather than copy each page through a read
	// call: a full reconciliation reads every person's rows, and copying
	// them page by page doubled its time. Writes still go through the WAL.
	// SQLite caps the size at its build limit.
	common.Add("_pragma", "mmap_size("+strconv.FormatInt(mmapBytes, 10)+")")

	w := url.Values{}
	for k, v := range common {
		w[k] = v
	}
	w.Set("_journal_mode", "WAL")
	w.Set("_synchronous", synchronous)
	w.Set("_foreign_keys", "1")
	w.Set("_txlock", "immediate")
	w.Add("_pragma", "journal_size_limit(67108864)")
	w.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(walCheckpointPages)+")")
	writer, err := sql.Open("sqlite", cfg.Path+"?"+w.Encode())
	if err != nil {
		return nil, translate(ctx, err, "open database")
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connect now: the writer sets WAL mode before any reader opens the file.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, translate(ctx, err, "open database")
	}

	r := url.Values{}
	for k, v := range common {
		r[k] = v
	}
	r.Set("_query_only", "1")
	reader, err := sql.Open("sqlite", cfg.Path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, translate(ctx, err, "open database")
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	reader.SetConnMaxIdleTime(0)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, translate(ctx, err, "open database")
	}
	return &Store{writer: writer, reader: reader}, nil
}

// Migrate brings the schema up to date. It runs on the writer connection,
// so it waits for transactions in progress and they wait for it.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fhir.Wrap(err, "migrate")
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, fsys)
	if err != nil {
		return fhir.Wrap(err, "migrate")
	}
	if _, err := p.Up(ctx); err != nil {
		return migrateError(ctx, err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return translate(ctx, err, "ping")
	}
	return nil
}

// Close closes the database. Transactions in progress fail.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.stmts != nil {
		s.stmts.close()
		s.stmts = nil
	}
	s.mu.Unlock()
	return errors.Join(s.writer.Close(), s.reader.Close())
}

// prepared returns the prepared statements, preparing them on first use.
func (s *Store) prepared(ctx context.Context) (*statements, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmts != nil {
		return s.stmts, nil
	}
	st, err := prepare(ctx, s.writer, s.reader)
	if err != nil {
		return nil, err
	}
	s.stmts = st
	return st, nil
}
