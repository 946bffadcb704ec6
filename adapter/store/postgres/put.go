package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
)

// Put's statements take their rows as arrays (unnest), so that their
// number does not grow with the Bundle's index rows. None joins a table on
// (type, id) for many rows at once: for a few hundred rows PostgreSQL would
// rather hash the whole resources table than probe its index, so keys travel
// back to the client and into the index statements instead.

// writeVersionsSQL inserts every version, numbered in the order of the
// writes, and creates the resources of the versions 1, keyed in the same
// order; it returns the new resources' keys. w is referenced twice, so it is
// computed once; v's rows reach the outer INSERT through RETURNING.
const writeVersionsSQL = `WITH w AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::boolean[], $7::bytea[])
		WITH ORDINALITY AS w (type, id, version, last_updated, method, deleted, body, ord)
), v AS (
	INSERT INTO versions (type, id, version, last_updated, method, deleted, body)
	SELECT type, id, version, last_updated, method, deleted, body FROM w ORDER BY ord
	RETURNING seq, type, id, version
)
INSERT INTO resources (type, id, version, last_updated, deleted, current_seq)
SELECT w.type, w.id, w.version, w.last_updated, w.deleted, v.seq
FROM w JOIN v ON v.type = w.type AND v.id = w.id AND v.version = w.version
WHERE w.version = 1
ORDER BY w.ord
RETURNING key, type, id`

// updateResourceSQL moves one resource to its next version, whose row
// writeVersionsSQL inserted; it changes no row (and returns none) unless the
// current version is the one before.
const updateResourceSQL = `UPDATE resources
SET version = $3, last_updated = $4, deleted = $5,
	current_seq = (SELECT seq FROM versions WHERE type = $1 AND id = $2 AND version = $3)
WHERE type = $1 AND id = $2 AND version = $3 - 1
RETURNING key`

// indexTables are the search index tables: their own columns, which Put
// fills after key and type, and the columns' types.
var indexTables = [4]struct {
	name    string
	columns []string
	types   []string
}{
	{"search_token", []string{"param", "code", "system"}, []string{"text", "text", "text"}},
	{"search_reference", []string{"param", "kind", "value", "system"}, []string{"text", "text", "text", "text"}},
	{"search_date", []string{"param", "low", "high"}, []string{"text", "bigint", "bigint"}},
	{"search_string", []string{"param", "value"}, []string{"text", "text"}},
}

// deleteIndexSQL and insertIndexSQL are the statements of each index table,
// in indexTables order: the DELETE of the rows of the resources whose keys
// are in an array, and the INSERT of rows given as arrays (key, type, then
// the table's own columns).
var deleteIndexSQL, insertIndexSQL = func() (del, ins [4]string) {
	for i, t := range indexTables {
		del[i] = `DELETE FROM ` + t.name + ` WHERE key = ANY($1::bigint[])`
		params := "$1::bigint[], $2::text[]"
		for j, typ := range t.types {
			params += ", $" + strconv.Itoa(j+3) + "::" + typ + "[]"
		}
		ins[i] = `INSERT INTO ` + t.name + ` (key, type, ` + strings.Join(t.columns, ", ") + `)
SELECT * FROM unnest(` + params + `)`
	}
	return del, ins
}()

// Put stores new versions and replaces their resources' search index rows, in
// two round trips whatever the number of writes. A Write that is not the
// successor of the current version fails with store.ErrVersionRace; after any
// failure the transaction only rolls back.
func (t *tx) Put(ctx context.Context, writes []store.Write) error {
	if t.failed != nil {
		return t.failed
	}
	if err := t.put(ctx, writes); err != nil {
		t.failed = err
		return err
	}
	for i := range writes {
		if writes[i].VersionID == 1 {
			t.fresh.Mark(writes[i].Type, writes[i].ID)
		}
	}
	return nil
}

func (t *tx) put(ctx context.Context, writes []store.Write) error {
	for i := range writes {
		if err := writes[i].Check(); err != nil {
			return err
		}
	}
	// The statements update each resource once; a Put that writes one
	// resource twice (versions 2 and 3, say) goes in rounds.
	for len(writes) > 0 {
		n := distinctPrefix(writes)
		if err := t.putRound(ctx, writes[:n]); err != nil {
			return err
		}
		writes = writes[n:]
	}
	return nil
}

// distinctPrefix returns how many writes from the start name distinct
// resources.
func distinctPrefix(writes []store.Write) int {
	seen := make(map[[2]string]bool, len(writes))
	for i := range writes {
		k := [2]string{writes[i].Type, writes[i].ID}
		if seen[k] {
			return i
		}
		seen[k] = true
	}
	return len(writes)
}

// putRound writes versions of distinct resources, in two round trips: the
// versions and resources, then their index rows.
func (t *tx) putRound(ctx context.Context, writes []store.Write) error {
	keys, err := t.writeVersions(ctx, writes)
	if err != nil {
		return err
	}
	return t.writeIndex(ctx, writes, keys)
}

// writeVersions inserts the versions, creates or moves on their resources,
// and returns the resources' keys, in the order of writes.
func (t *tx) writeVersions(ctx context.Context, writes []store.Write) ([]int64, error) {
	n := len(writes)
	var (
		types, ids, methods  = make([]string, n), make([]string, n), make([]string, n)
		versions, lastUpdate = make([]int64, n), make([]int64, n)
		deleted              = make([]bool, n)
		bodies               = make([][]byte, n)
	)
	for i := range writes {
		w := &writes[i]
		types[i], ids[i], versions[i], methods[i], deleted[i] = w.Type, w.ID, w.VersionID, w.Method, w.Deleted
		lastUpdate[i] = w.LastUpdated.UnixMilli() * 1000
		if !w.Deleted {
			bodies[i] = w.Body
		}
	}
	b := &pgx.Batch{}
	b.Queue(writeVersionsSQL, types, ids, versions, lastUpdate, methods, deleted, bodies)
	for i := range writes {
		if versions[i] > 1 {
			b.Queue(updateResourceSQL, types[i], ids[i], versions[i], lastUpdate[i], deleted[i])
		}
	}
	br := t.tx.SendBatch(ctx, b)
	keys, err := func() ([]int64, error) {
		keys := make([]int64, n)
		created := make(map[[2]string]int64, n)
		rows, err := br.Query()
		if err != nil {
			return nil, putError(ctx, err)
		}
		for rows.Next() {
			var key int64
			var typ, id string
			if err := rows.Scan(&key, &typ, &id); err != nil {
				rows.Close()
				return nil, putError(ctx, err)
			}
			created[[2]string{typ, id}] = key
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, putError(ctx, err)
		}
		for i := range writes {
			if versions[i] == 1 {
				keys[i] = created[[2]string{types[i], ids[i]}]
				continue
			}
			if err := br.QueryRow().Scan(&keys[i]); err != nil {
				return nil, putError(ctx, err) // no row: not at the version before
			}
		}
		return keys, nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = putError(ctx, cerr)
	}
	return keys, err
}

// deleteGrantsSQL and insertGrantsSQL replace the grants of resources: the
// rows of the keys in an array go, rows given as arrays (key, ods) come.
const (
	deleteGrantsSQL = `DELETE FROM resource_grant WHERE key = ANY($1::bigint[])`
	insertGrantsSQL = `INSERT INTO resource_grant (key, ods) SELECT * FROM unnest($1::bigint[], $2::text[])`
)

// writeIndex replaces the index rows and grants of the resources written.
func (t *tx) writeIndex(ctx context.Context, writes []store.Write, keys []int64) error {
	var replaced []int64  // keys of updated resources, whose old rows go
	var grantKeys []int64 // the new grant rows: key and ODS code
	var grantODS []string
	var ix [4]columns // new rows, per table: key, type, then the table's own columns
	for i, tb := range indexTables {
		ix[i] = newColumns(append([]string{"bigint", "text"}, tb.types...))
	}
	for i := range writes {
		w, key := &writes[i], keys[i]
		if w.VersionID > 1 {
			replaced = append(replaced, key)
		}
		if w.Deleted {
			continue
		}
		for _, ods := range sqlindex.Grants(w) {
			grantKeys, grantODS = append(grantKeys, key), append(grantODS, ods)
		}
		rows := sqlindex.Flatten(w.Index)
		for _, r := range rows.Tokens {
			ix[0].append(key, w.Type, r.Param, r.Code, r.System)
		}
		for _, r := range rows.References {
			ix[1].append(key, w.Type, r.Param, r.Kind, r.Value, r.System)
		}
		for _, r := range rows.Dates {
			ix[2].append(key, w.Type, r.Param, r.Low, r.High)
		}
		for _, r := range rows.Strings {
			ix[3].append(key, w.Type, r.Param, r.Value)
		}
	}
	b := &pgx.Batch{}
	if len(replaced) > 0 {
		for i := range indexTables {
			b.Queue(deleteIndexSQL[i], replaced)
		}
		b.Queue(deleteGrantsSQL, replaced)
	}
	for i := range indexTables {
		if ix[i].len() > 0 {
			b.Queue(insertIndexSQL[i], ix[i]...)
		}
	}
	if len(grantKeys) > 0 {
		b.Queue(insertGrantsSQL, grantKeys, grantODS)
	}
	if b.Len() == 0 {
		return nil
	}
	br := t.tx.SendBatch(ctx, b)
	var err error
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			err = translate(ctx, err, "write search index")
			break
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(ctx, cerr, "write search index")
	}
	return err
}

// columns are the column arrays of rows given to unnest: each a []string or
// an []int64.
type columns []any

func newColumns(types []string) columns {
	c := make(columns, len(types))
	for i, t := range types {
		if t == "bigint" {
			c[i] = []int64{}
		} else {
			c[i] = []string{}
		}
	}
	return c
}

// append adds a row; its values are strings and int64s in column order.
func (c columns) append(vals ...any) {
	for i, v := range vals {
		switch v := v.(type) {
		case string:
			c[i] = append(c[i].([]string), v)
		case int64:
			c[i] = append(c[i].([]int64), v)
		}
	}
}

func (c columns) len() int { return len(c[0].([]int64)) }

// putError turns the failure of a version or resource row into
// ErrVersionRace when the version was not the successor of the current one:
// a version number taken, a resource created twice, or an update that found
// no current version before it.
func putError(ctx context.Context, err error) error {
	if errors.Is(err, pgx.ErrNoRows) || isUniqueOn(err, "versions_version_unique", "resources_id_unique") {
		return errVersionRace()
	}
	return translate(ctx, err, "put")
}
