package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
)

// sequencesSQL reads the AUTOINCREMENT high-water marks of versions.seq and
// resources.key. Writers are serialised, so a Put may number its rows from
// them; inserting explicit values moves the marks on.
const sequencesSQL = `SELECT
	coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'versions'), 0),
	coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'resources'), 0)`

// updateResourceSQL moves a resource to its next version; it changes no row
// (and returns none) unless the current version is the one before.
const updateResourceSQL = `UPDATE resources SET version = ?, last_updated = ?, deleted = ?, current_seq = ?
WHERE type = ? AND id = ? AND version = ? RETURNING key`

// Put stores new versions and replaces their resources' search index rows
// and grants.
// Rows are numbered here, from the sequences' high-water marks, so that the
// versions, the new resources and the index rows all go in as multi-row
// INSERTs: a 100-resource Bundle of creates takes about 30 statements instead
// of 1,100. Updates take one UPDATE each, which checks the version.
// A Write that is not the successor of the current version fails with
// store.ErrVersionRace; after any failure the transaction only rolls back.
func (t *tx) Put(ctx context.Context, writes []store.Write) error {
	if t.failed != nil {
		return t.failed
	}
	if err := t.put(ctx, writes); err != nil {
		t.failed = err
		return err
	}
	return nil
}

func (t *tx) put(ctx context.Context, writes []store.Write) error {
	if len(writes) == 0 {
		return nil
	}
	for i := range writes {
		if err := writes[i].Check(); err != nil {
			return err
		}
	}
	var seq, key int64
	if err := t.stmt(ctx, t.st.sequences).QueryRowContext(ctx).Scan(&seq, &key); err != nil {
		return translate(ctx, err, "put")
	}

	// The versions, numbered in the order of writes.
	seqs := make([]int64, len(writes))
	vals := make([]any, 0, len(writes)*len(versionsTable.columns))
	for i := range writes {
		w := &writes[i]
		seq++
		seqs[i] = seq
		var body any
		if !w.Deleted {
			body = w.Body
		}
		vals = append(vals, seq, w.Type, w.ID, w.VersionID, lastUpdated(w), w.Method, w.Deleted, body)
	}
	if err := t.st.insertVersions.exec(ctx, t.tx, vals); err != nil {
		return putError(ctx, err)
	}

	// The resources: new ones in one go, the others one UPDATE each.
	keys := make([]int64, len(writes))
	var replaced []byte // JSON array of the keys whose old index rows go
	vals = vals[:0]
	update := t.stmt(ctx, t.st.updateResource)
	for i := range writes {
		w := &writes[i]
		if w.VersionID == 1 {
			key++
			keys[i] = key
			t.fresh.Mark(w.Type, w.ID)
			vals = append(vals, key, w.Type, w.ID, w.VersionID, lastUpdated(w), w.Deleted, seqs[i])
			continue
		}
		err := update.QueryRowContext(ctx, w.VersionID, lastUpdated(w), w.Deleted, seqs[i], w.Type, w.ID, w.VersionID-1).Scan(&keys[i])
		if err != nil {
			return putError(ctx, err)
		}
		replaced = appendKey(replaced, keys[i])
	}
	if err := t.st.insertResources.exec(ctx, t.tx, vals); err != nil {
		return putError(ctx, err)
	}

	// The search index and grants of the resources' new current versions.
	if replaced != nil {
		replaced = append(replaced, ']')
		for i := range indexTables {
			if _, err := t.stmt(ctx, t.st.deleteIndex[i]).ExecContext(ctx, replaced); err != nil {
				return translate(ctx, err, "replace search index")
			}
		}
		if _, err := t.stmt(ctx, t.st.deleteGrants).ExecContext(ctx, replaced); err != nil {
			return translate(ctx, err, "replace grants")
		}
	}
	last := make(map[int64]int, len(writes)) // key -> index of its last write
	for i, k := range keys {
		last[k] = i
	}
	var rows [4][]any // column values of the new index rows, in indexTables order
	var grants []any  // column values of the new grant rows
	for i := range writes {
		w := &writes[i]
		key := keys[i]
		if w.Deleted || last[key] != i {
			continue
		}
		for _, ods := range sqlindex.Grants(w) {
			grants = append(grants, key, ods)
		}
		ix := sqlindex.Flatten(w.Index)
		for _, r := range ix.Tokens {
			rows[0] = append(rows[0], r.Param, r.Code, r.System, w.Type, key)
		}
		for _, r := range ix.References {
			rows[1] = append(rows[1], r.Param, r.Kind, r.Value, r.System, w.Type, key)
		}
		for _, r := range ix.Dates {
			rows[2] = append(rows[2], r.Param, w.Type, r.Low, r.High, key)
		}
		for _, r := range ix.Strings {
			rows[3] = append(rows[3], r.Param, w.Type, r.Value, key)
		}
	}
	for i := range indexTables {
		if err := t.st.insertIndex[i].exec(ctx, t.tx, rows[i]); err != nil {
			return translate(ctx, err, "write search index")
		}
	}
	if err := t.st.insertGrants.exec(ctx, t.tx, grants); err != nil {
		return translate(ctx, err, "write grants")
	}
	return nil
}

// lastUpdated returns w's LastUpdated as stored: Unix microseconds, cut to
// the millisecond.
func lastUpdated(w *store.Write) int64 { return w.LastUpdated.UnixMilli() * 1000 }

// putError turns the failure of a version or resource row into
// ErrVersionRace when the version was not the successor of the current one:
// a version number taken (UNIQUE (type, id, version)), a resource created
// twice (UNIQUE (type, id)), or an update that found no current version
// before it.
func putError(ctx context.Context, err error) error {
	if errors.Is(err, sql.ErrNoRows) || isUnique(err) {
		return errVersionRace()
	}
	return translate(ctx, err, "put")
}

// appendKey appends key to the JSON array a, opening it when a is nil.
func appendKey(a []byte, key int64) []byte {
	if a == nil {
		a = append(a, '[')
	} else {
		a = append(a, ',')
	}
	return strconv.AppendInt(a, key, 10)
}

// jsonString returns s as a JSON string.
func jsonString(s string) string { return string(appendJSONString(nil, s)) }

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(a []byte, s string) []byte {
	const hex = "0123456789abcdef"
	a = append(a, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				a = append(a, '\\', c)
			case c < 0x20:
				a = append(a, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				a = append(a, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			a = append(a, "\ufffd"...)
		} else {
			a = append(a, s[i:i+size]...)
		}
		i += size
	}
	return append(a, '"')
}
