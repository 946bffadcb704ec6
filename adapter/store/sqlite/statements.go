package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
)

// statements are the fixed statements, prepared once: the writer's on its one
// connection, the readers' on each reader connection as it is first used.
type statements struct {
	// writer
	sequences, updateResource, current, txRead *sql.Stmt
	insertVersions, insertResources            *bulkInsert
	deleteIndex                                [4]*sql.Stmt // indexTables order
	insertIndex                                [4]*bulkInsert
	// writer: organisation-bound access and the audit trail
	deleteGrants, deletePersonOrgs, insertPersonOrgs *sql.Stmt
	useNonce, pruneNonces                            *sql.Stmt
	insertGrants, insertAudit                        *bulkInsert
	// writer: the shared-care projection
	deleteProjections, deleteUnmapped                           *sql.Stmt
	txProjection, txPersonProjections, txReferencingProjections *sql.Stmt
	insertProjections, insertUnmapped                           *bulkInsert
	txPeopleProjections                                         *sql.Stmt
	// writer: the health check Tasks
	txCheckTasks, putCheckTasks *sql.Stmt
	// writer and readers: the Task change feed
	putTaskFeed, indexEntries               *sql.Stmt
	feedHorizon, taskFeed, taskFeedByStatus *sql.Stmt
	// writer: the Subscriptions every write is matched against
	txSubscriptions *sql.Stmt
	// readers
	read, vread, personProjections, scanCurrent *sql.Stmt
	people, taskPeople, checkTasks              *sql.Stmt
	peopleProjections, personOrgs               *sql.Stmt
}

// A table and the columns a bulkInsert fills.
type table struct {
	name    string
	columns []string
}

var (
	versionsTable  = table{"versions", []string{"seq", "type", "id", "version", "last_updated", "method", "deleted", "body"}}
	resourcesTable = table{"resources", []string{"key", "type", "id", "version", "last_updated", "deleted", "current_seq"}}
	// indexTables are the search index tables, in the order of
	// statements.deleteIndex and insertIndex.
	indexTables = [4]table{
		{"search_token", []string{"param", "code", "system", "type", "key"}},
		{"search_reference", []string{"param", "kind", "value", "system", "type", "key"}},
		{"search_date", []string{"param", "type", "low", "high", "key"}},
		{"search_string", []string{"param", "type", "value", "key"}},
	}
	projectionTable = table{"sc_projection", []string{"type", "id", "version_id", "person", "org", "patient_ref", "profile", "facts"}}
	unmappedTable   = table{"sc_unmapped", []string{"type", "id", "profile", "what", "system", "code", "expression", "reason"}}
	grantTable      = table{"resource_grant", []string{"key", "ods"}}
	auditTable      = table{"audit", strings.Split(sqlindex.AuditColumns, ", ")}
)

// chunkSizes are the row counts of the prepared multi-row INSERTs of a
// bulkInsert: rows go in as few statements as the sizes allow, so that a
// 100-resource Bundle's 900 index rows take about 20 statements, not 900.
var chunkSizes = []int{64, 16, 4, 1}

// bulkInsert inserts rows into one table with prepared multi-row INSERTs.
type bulkInsert struct {
	ncols  int
	chunks []*sql.Stmt // in chunkSizes order
}

func prepareBulkInsert(ctx context.Context, db *sql.DB, t table) (*bulkInsert, error) {
	b := &bulkInsert{ncols: len(t.columns)}
	one := "(" + strings.Repeat("?, ", b.ncols-1) + "?)"
	for _, n := range chunkSizes {
		q := "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES " +
			strings.Repeat(one+", ", n-1) + one
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			b.close()
			return nil, err
		}
		b.chunks = append(b.chunks, s)
	}
	return b, nil
}

// exec inserts, inside tx, the rows whose column values vals holds, in
// table column order.
func (b *bulkInsert) exec(ctx context.Context, tx *sql.Tx, vals []any) error {
	for i, rows := range chunkSizes {
		n := rows * b.ncols
		if len(vals) < n {
			continue
		}
		stmt := tx.StmtContext(ctx, b.chunks[i])
		for len(vals) >= n {
			if _, err := stmt.ExecContext(ctx, vals[:n]...); err != nil {
				return err
			}
			vals = vals[n:]
		}
	}
	return nil
}

func (b *bulkInsert) close() {
	if b == nil {
		return
	}
	for _, s := range b.chunks {
		s.Close()
	}
}

func prepare(ctx context.Context, writer, reader *sql.DB) (_ *statements, err error) {
	st := new(statements)
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	prep := func(db *sql.DB, dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = db.PrepareContext(ctx, q)
	}
	bulk := func(dst **bulkInsert, t table) {
		if err != nil {
			return
		}
		*dst, err = prepareBulkInsert(ctx, writer, t)
	}
	prep(writer, &st.sequences, sequencesSQL)
	prep(writer, &st.updateResource, updateResourceSQL)
	prep(writer, &st.current, currentSQL)
	prep(writer, &st.txRead, readSQL)
	bulk(&st.insertVersions, versionsTable)
	bulk(&st.insertResources, resourcesTable)
	for i, t := range indexTables {
		prep(writer, &st.deleteIndex[i], `DELETE FROM `+t.name+` WHERE key IN (SELECT value FROM json_each(?))`)
		bulk(&st.insertIndex[i], t)
	}
	prep(writer, &st.deleteProjections, deleteProjectionsSQL)
	prep(writer, &st.deleteUnmapped, deleteUnmappedSQL)
	prep(writer, &st.txProjection, projectionSQL)
	prep(writer, &st.txPersonProjections, personProjectionsSQL)
	prep(writer, &st.txReferencingProjections, referencingProjectionsSQL)
	bulk(&st.insertProjections, projectionTable)
	bulk(&st.insertUnmapped, unmappedTable)
	prep(writer, &st.txPeopleProjections, peopleProjectionsSQL)
	prep(writer, &st.txCheckTasks, checkTasksSQL)
	prep(writer, &st.putCheckTasks, putCheckTasksSQL)
	prep(writer, &st.putTaskFeed, putTaskFeedSQL)
	prep(writer, &st.indexEntries, indexEntriesSQL)
	prep(reader, &st.feedHorizon, feedHorizonSQL)
	prep(reader, &st.taskFeed, taskFeedSQL)
	prep(reader, &st.taskFeedByStatus, taskFeedByStatusSQL)
	prep(writer, &st.txSubscriptions, subscriptionsSQL)
	prep(reader, &st.people, peopleSQL)
	prep(reader, &st.taskPeople, taskPeopleSQL)
	prep(reader, &st.checkTasks, checkTasksSQL)
	prep(reader, &st.peopleProjections, peopleProjectionsSQL)
	prep(writer, &st.deleteGrants, `DELETE FROM resource_grant WHERE key IN (SELECT value FROM json_each(?))`)
	bulk(&st.insertGrants, grantTable)
	prep(writer, &st.deletePersonOrgs, deletePersonOrgsSQL)
	prep(writer, &st.insertPersonOrgs, insertPersonOrgsSQL)
	prep(reader, &st.personOrgs, personOrgsSQL)
	prep(writer, &st.useNonce, useNonceSQL)
	prep(writer, &st.pruneNonces, pruneNoncesSQL)
	bulk(&st.insertAudit, auditTable)
	prep(reader, &st.read, readSQL)
	prep(reader, &st.vread, vreadSQL)
	prep(reader, &st.personProjections, personProjectionsSQL)
	prep(reader, &st.scanCurrent, scanCurrentSQL)
	if err != nil {
		return nil, translate(ctx, err, "prepare statements")
	}
	return st, nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{
		st.sequences, st.updateResource, st.current, st.txRead,
		st.deleteProjections, st.deleteUnmapped,
		st.txProjection, st.txPersonProjections, st.txReferencingProjections,
		st.txPeopleProjections, st.txCheckTasks, st.putCheckTasks, st.txSubscriptions,
		st.read, st.vread, st.personProjections, st.scanCurrent,
		st.people, st.taskPeople, st.checkTasks, st.peopleProjections,
		st.putTaskFeed, st.indexEntries, st.feedHorizon, st.taskFeed, st.taskFeedByStatus,
		st.deleteGrants, st.deletePersonOrgs, st.insertPersonOrgs, st.personOrgs, st.useNonce, st.pruneNonces,
	} {
		if s != nil {
			s.Close()
		}
	}
	st.insertVersions.close()
	st.insertResources.close()
	st.insertProjections.close()
	st.insertUnmapped.close()
	st.insertGrants.close()
	st.insertAudit.close()
	for i := range indexTables {
		if st.deleteIndex[i] != nil {
			st.deleteIndex[i].Close()
		}
		st.insertIndex[i].close()
	}
}
