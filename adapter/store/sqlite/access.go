package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// Organisation-bound access (migration 00008): the grants of each resource,
// which Put writes; the organisations that may see each person; and the
// keys used once. Search, History and Visible apply a store.Viewer through
// sqlindex.Sees.

const (
	// deletePersonOrgsSQL removes the rows of the people of a JSON array,
	// except those that are never taken back.
	deletePersonOrgsSQL = `DELETE FROM person_org
WHERE person IN (SELECT value FROM json_each(?)) AND reason <> '` + store.ReasonSent + `'`
	// insertPersonOrgsSQL adds the rows of a JSON array of [person, ods,
	// reason] arrays; a row already there (a kept "sent") stays as it is.
	insertPersonOrgsSQL = `INSERT OR IGNORE INTO person_org (person, ods, reason)
SELECT value->>0, value->>1, value->>2 FROM json_each(?)`
	personOrgsSQL = `SELECT person, ods, reason FROM person_org WHERE person = ? ORDER BY ods, reason`

	// useNonceSQL records a key, or takes over its expired row; it returns
	// a row only when it did either.
	useNonceSQL = `INSERT INTO nonce (key, until) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE nonce.until <= ?3
RETURNING 1`
	// pruneNoncesSQL forgets a few expired keys, oldest first.
	pruneNoncesSQL = `DELETE FROM nonce WHERE key IN (
	SELECT key FROM nonce WHERE until <= ?1 ORDER BY until LIMIT ?2)`
)

// PutPersonOrgs replaces the organisations that may see each of people,
// but those that were sent data about them, with grants. After a failure
// the transaction only rolls back.
func (t *tx) PutPersonOrgs(ctx context.Context, people []string, grants []store.PersonOrg) error {
	if t.failed != nil {
		return t.failed
	}
	rows, err := sqlindex.PersonOrgRows(people, grants)
	if err != nil {
		return t.fail(fhir.Wrap(err, "put person organisations"))
	}
	if len(people) == 0 {
		return nil
	}
	named, err := json.Marshal(people)
	if err != nil {
		return t.fail(fhir.Wrap(err, "put person organisations"))
	}
	if _, err := t.stmt(ctx, t.st.deletePersonOrgs).ExecContext(ctx, named); err != nil {
		return t.fail(translate(ctx, err, "put person organisations"))
	}
	if len(rows) == 0 {
		return nil
	}
	values := make([][3]string, len(rows))
	for i, r := range rows {
		values[i] = [3]string{r.Person, r.ODS, r.Reason}
	}
	arr, err := json.Marshal(values)
	if err != nil {
		return t.fail(fhir.Wrap(err, "put person organisations"))
	}
	if _, err := t.stmt(ctx, t.st.insertPersonOrgs).ExecContext(ctx, arr); err != nil {
		return t.fail(translate(ctx, err, "put person organisations"))
	}
	return nil
}

// PersonOrgs returns the organisations that may see a person.
func (s *Store) PersonOrgs(ctx context.Context, nhsNumber string) ([]store.PersonOrg, error) {
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.personOrgs.QueryContext(ctx, nhsNumber)
	if err != nil {
		return nil, translate(ctx, err, "person organisations")
	}
	defer rows.Close()
	out, err := sqlindex.ScanPersonOrgs(rows)
	if err != nil {
		return nil, translate(ctx, err, "person organisations")
	}
	return out, nil
}

// UseNonce records key as used until until, on the writer connection, and
// forgets up to sqlindex.NoncePruneBatch expired keys in the same
// transaction. Writers are serialised, so of any number of concurrent
// calls with one key, one finds it new. Like every write it waits for a
// transaction in progress; a Transact fn must not call it.
func (s *Store) UseNonce(ctx context.Context, key string, until time.Time) (bool, error) {
	st, err := s.prepared(ctx)
	if err != nil {
		return false, err
	}
	now := time.Now().UnixMicro()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, translate(ctx, err, "use a nonce")
	}
	defer tx.Rollback()
	var one int
	err = tx.StmtContext(ctx, st.useNonce).QueryRowContext(ctx, sqlindex.NonceKey(key), until.UnixMicro(), now).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, translate(ctx, err, "use a nonce")
	}
	fresh := err == nil
	if _, err := tx.StmtContext(ctx, st.pruneNonces).ExecContext(ctx, now, sqlindex.NoncePruneBatch); err != nil {
		return false, translate(ctx, err, "use a nonce")
	}
	if err := tx.Commit(); err != nil {
		return false, translate(ctx, err, "use a nonce")
	}
	return fresh, nil
}
