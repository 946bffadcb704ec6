package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// translate turns an error from database/sql or the driver into the store's
// error vocabulary: fhir.NotFound for no row, fhir.Conflict for a unique
// violation, fhir.Unavailable when another process holds the database, and an
// Internal fhir.Wrap otherwise. The driver error itself is not kept (only its
// text and code, which name tables and columns, never values), so nothing
// above the store depends on the driver. A context's end is kept as the cause,
// so errors.Is(err, context.Canceled) holds.
func translate(ctx context.Context, err error, op string) error {
	if err == nil {
		return nil
	}
	if fe, ok := errors.AsType[*fhir.Error](err); ok {
		return fe
	}
	if ctx.Err() != nil {
		return fhir.Wrap(ctx.Err(), op)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fhir.Wrap(err, op)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "the resource is not known")
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if isUnique(err) {
				return &fhir.Error{Kind: fhir.Conflict, Err: fmt.Errorf("sqlite: %s", se.Error()), Issues: []fhir.Issue{{
					Severity: fhir.SeverityError, Code: fhir.IssueConflict, Diagnostics: op + " conflicts with stored data",
				}}}
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &fhir.Error{Kind: fhir.Unavailable, Err: fmt.Errorf("sqlite: %s", se.Error()), Issues: []fhir.Issue{{
				Severity: fhir.SeverityError, Code: fhir.IssueTransient, Diagnostics: "the database is busy; retry",
			}}}
		}
		return fhir.Wrap(fmt.Errorf("sqlite: %s", se.Error()), op)
	}
	return fhir.Wrap(errors.New(err.Error()), op)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// errVersionRace is Put's error for a version that is not the successor of
// the current one: a Conflict that errors.Is store.ErrVersionRace, which
// Transact retries.
func errVersionRace() error {
	return &fhir.Error{Kind: fhir.Conflict, Err: store.ErrVersionRace, Issues: []fhir.Issue{{
		Severity: fhir.SeverityError, Code: fhir.IssueConflict,
		Diagnostics: "another transaction changed the resource first; retry",
	}}}
}

// migrateError keeps the text of a failed migration's error, which names the
// migration and the statement, but not the driver error itself.
func migrateError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fhir.Wrap(ctx.Err(), "migrate")
	}
	return fhir.Wrap(errors.New("sqlite: "+err.Error()), "migrate")
}
