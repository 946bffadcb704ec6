package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite" // the same driver as the gateway

	"github.com/carebridge/carebridge/fhir"
)

// The ceiling is what this machine can do with the same resources and no
// gateway: decode and validate each resource, give it an id, write it back
// out, and insert it into a table without any index, one transaction per
// batch. No HTTP, no search index, no versions, no conditional logic.
func newCeilingCommand(stdout, stderr io.Writer) *cobra.Command {
	var db, synchronous string
	var n, batch int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "ceiling",
		Short: "Decode + insert the same resources with no HTTP and no index",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			res, err := newGenerator(seed).resources(n)
			if err != nil {
				return err
			}
			ins, closeDB, err := openCeiling(ctx, db, synchronous)
			if err != nil {
				return err
			}
			defer closeDB()

			// Decode alone, then decode + insert, so the two costs can be told apart.
			start := time.Now()
			if _, err := decodeAll(res); err != nil {
				return err
			}
			decodeOnly := time.Since(start)

			start = time.Now()
			for i := 0; i < len(res); i += batch {
				rows, err := decodeAll(res[i:min(i+batch, len(res))])
				if err != nil {
					return err
				}
				if err := ins(ctx, rows); err != nil {
					return err
				}
				if (i/batch)%50 == 49 {
					fmt.Fprintf(stderr, "  %d/%d resources\n", i+batch, len(res))
				}
			}
			elapsed := time.Since(start)
			fmt.Fprintf(stdout, "ceiling (%s): %d resources in batches of %d: decode+validate only %.0f resources/s; decode+validate+insert %.0f resources/s\n",
				engineOf(db), n, batch, float64(n)/decodeOnly.Seconds(), float64(n)/elapsed.Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "sqlite:PATH (a new file) or a postgres:// URL")
	f.StringVar(&synchronous, "sqlite-synchronous", "FULL", "SQLite synchronous mode, as the gateway's flag")
	f.IntVar(&n, "resources", 20000, "resources to insert")
	f.IntVar(&batch, "batch", 100, "resources per transaction")
	f.Uint64Var(&seed, "seed", 3, "random seed of the synthetic data")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

type ceilingRow struct {
	id, typ string
	body    []byte
}

// decodeAll does what the gateway does to every incoming resource before
// storage: parse, validate, assign an id, serialise.
func decodeAll(res [][]byte) ([]ceilingRow, error) {
	rows := make([]ceilingRow, len(res))
	for i, data := range res {
		v, err := fhir.DecodeResource(data)
		if err != nil {
			return nil, fmt.Errorf("decode resource %d: %w", i, err)
		}
		id := uuid.Must(uuid.NewV7()).String()
		v.Set("id", fhir.String(id))
		rows[i] = ceilingRow{id: id, typ: v.Str("resourceType"), body: v.AppendJSON(nil)}
	}
	return rows, nil
}

func engineOf(db string) string {
	if strings.HasPrefix(db, "sqlite:") {
		return "SQLite"
	}
	return "PostgreSQL"
}

// openCeiling makes a table without indexes and returns a function that
// inserts one batch in one transaction.
func openCeiling(ctx context.Context, db, synchronous string) (func(context.Context, []ceilingRow) error, func(), error) {
	const table = `CREATE TABLE IF NOT EXISTS ceiling (id TEXT, type TEXT, body BLOB)`
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", synchronous)
		q.Set("_txlock", "immediate")
		d, err := sql.Open("sqlite", path+"?"+q.Encode())
		if err != nil {
			return nil, nil, err
		}
		d.SetMaxOpenConns(1)
		if _, err := d.ExecContext(ctx, table); err != nil {
			d.Close()
			return nil, nil, fmt.Errorf("create table: %w", err)
		}
		insert := func(ctx context.Context, rows []ceilingRow) error {
			tx, err := d.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			st, err := tx.PrepareContext(ctx, `INSERT INTO ceiling (id, type, body) VALUES (?, ?, ?)`)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if _, err := st.ExecContext(ctx, r.id, r.typ, r.body); err != nil {
					return err
				}
			}
			return tx.Commit()
		}
		return insert, func() { d.Close() }, nil
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(ctx, strings.Replace(table, "BLOB", "BYTEA", 1)); err != nil {
		conn.Close(ctx)
		return nil, nil, fmt.Errorf("create table: %w", err)
	}
	insert := func(ctx context.Context, rows []ceilingRow) error {
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"ceiling"}, []string{"id", "type", "body"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				return []any{rows[i].id, rows[i].typ, rows[i].body}, nil
			}))
		return err
	}
	return insert, func() { conn.Close(context.Background()) }, nil
}
