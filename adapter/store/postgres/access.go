package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// Organisation-bound access (migration 00007): the grants of each resource,
// which Put writes; the organisations that may see each person; and the
// keys used once. Search, History and Visible apply a store.Viewer through
// sqlindex.Sees.

const (
	// deletePersonOrgsSQL removes the rows of the people in an array,
	// except those that are never taken back.
	deletePersonOrgsSQL = `DELETE FROM person_org
WHERE person = ANY($1::text[]) AND reason <> '` + store.ReasonSent + `'`
	// insertPersonOrgsSQL adds rows given as arrays; a row already there
	// (a kept "sent") stays as it is.
	insertPersonOrgsSQL = `INSERT INTO person_org (person, ods, reason)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT DO NOTHING`
	personOrgsSQL = `SELECT person, ods, reason FROM person_org WHERE person = $1 ORDER BY ods, reason`

	// useNonceSQL records a key, or takes over its expired row; it returns
	// a row only when it did either. Of two calls racing on one key, the
	// second waits for the first's row, then finds it unexpired.
	useNonceSQL = `INSERT INTO nonce (key, until) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until WHERE nonce.until <= $3
RETURNING true`
	// pruneNoncesSQL forgets a few expired keys, oldest first, skipping
	// those another gateway is busy with.
	pruneNoncesSQL = `DELETE FROM nonce WHERE key IN (
	SELECT key FROM nonce WHERE until <= $1 ORDER BY until LIMIT $2 FOR UPDATE SKIP LOCKED)`
)

// PutPersonOrgs replaces the organisations that may see each of people,
// but those that were sent data about them, with grants, in one round trip.
// It first takes an advisory lock per person, so that two transactions
// replacing one person's rows run one after the other rather than leave
// both sets. After a failure the transaction only rolls back.
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
	locks := make([]string, len(people))
	for i, p := range people {
		locks[i] = "person-org:" + p
	}
	b := &pgx.Batch{}
	queueLocks(b, locks)
	b.Queue(deletePersonOrgsSQL, people)
	if len(rows) > 0 {
		var cols [3][]string
		for _, r := range rows {
			cols[0], cols[1], cols[2] = append(cols[0], r.Person), append(cols[1], r.ODS), append(cols[2], r.Reason)
		}
		b.Queue(insertPersonOrgsSQL, cols[0], cols[1], cols[2])
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return t.fail(translate(ctx, err, "put person organisations"))
	}
	return nil
}

// PersonOrgs returns the organisations that may see a person.
func (s *Store) PersonOrgs(ctx context.Context, nhsNumber string) ([]store.PersonOrg, error) {
	rows, err := s.pool.Query(ctx, personOrgsSQL, nhsNumber)
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

// UseNonce records key as used until until and forgets up to
// sqlindex.NoncePruneBatch expired keys, in one round trip and one
// (implicit) transaction. Of any number of concurrent calls with one key,
// from any number of gateways, one finds it new.
func (s *Store) UseNonce(ctx context.Context, key string, until time.Time) (bool, error) {
	now := time.Now().UnixMicro()
	b := &pgx.Batch{}
	b.Queue(useNonceSQL, sqlindex.NonceKey(key), until.UnixMicro(), now)
	b.Queue(pruneNoncesSQL, now, sqlindex.NoncePruneBatch)
	br := s.pool.SendBatch(ctx, b)
	var fresh bool
	err := br.QueryRow().Scan(&fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, translate(ctx, err, "use a nonce")
	}
	return fresh, nil
}
