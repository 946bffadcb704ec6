// Package postgres is CareBridge's scale-out store: store.Store on a
// PostgreSQL database (15 or later) that several gateways share, through pgx
// (native protocol, pgxpool). It owns its SQL and its migrations; the search
// fragments it shares with the SQLite engine come from
// adapter/store/internal/sqlindex. It holds no rules: what to write is decided
// by its caller (adapter.Gateway).
//
// # Concurrency
//
// Transactions run at READ COMMITTED. Tx.Current locks the rows it reads
// (SELECT ... FOR UPDATE), so concurrent updates of one resource wait for one
// another instead of racing; Tx.Lock takes a transaction-level advisory lock
// (pg_advisory_xact_lock) on a 64-bit hash of its key, which serialises
// conditional creates across gateways; Tx.PutProjections takes one on each
// resource it names, so that concurrent replacements of a resource's
// projection rows run one after the other. Races that waiting cannot prevent
// (two creates of one new id: a unique violation on the version),
// serialization failures (40001) and deadlocks (40P01) make Transact roll
// back and run fn again after a short jittered pause, up to
// store.MaxTransactAttempts times.
//
// Tx.Put sends all of its statements in one round trip (a pgx.Batch of
// array-parameter statements): a 100-resource Bundle costs one round trip and
// about a dozen statements, however many index rows it has; Tx.PutProjections
// likewise. After a write fails, the transaction can only roll back.
//
// versions.seq comes from a sequence, so it is unique and a later
// transaction's versions have higher seqs, but seqs are not in commit order;
// versions.txid records the writing transaction for a commit-ordered change
// cursor.
package postgres

import (
	"context"
	"embed"
	"errors"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config says which database to use and how.
type Config struct {
	// URL is a PostgreSQL connection URL or key=value string, as pgx
	// accepts (postgres://user@host:5432/carebridge?sslmode=verify-full).
	URL string
	// MaxConns bounds the connection pool; pgx's default (the greater of 4
	// and the number of CPUs) when zero.
	MaxConns int
	// MinConns is the number of connections kept open when idle; 0 when zero.
	MinConns int
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database in cfg.URL and checks that it answers. Call
// Migrate before the first transaction.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, fhir.Wrap(errors.New("postgres: the connection URL is not valid"), "open database")
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = int32(cfg.MaxConns)
	}
	if cfg.MinConns > 0 {
		pc.MinConns = int32(cfg.MinConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, translate(ctx, err, "open database")
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, translate(ctx, err, "open database")
	}
	return &Store{pool: pool}, nil
}

// Migrations returns the schema migrations Migrate applies: numbered goose
// SQL files, embedded in the binary.
func Migrations() fs.FS {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is there by construction
	}
	return fsys
}

// Migrate brings the schema up to date. It holds a session-level advisory
// lock while it runs, so when several gateways start at once one migrates and
// the others wait, then find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	// Poll for the lock every second, for up to ten minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return fhir.Wrap(err, "migrate")
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(), goose.WithSessionLocker(locker))
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
	if err := s.pool.Ping(ctx); err != nil {
		return translate(ctx, err, "ping")
	}
	return nil
}

// Close closes every connection, waiting for those in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what reads run on: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
