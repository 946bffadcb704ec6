package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// errSerialization marks the translated form of a serialization failure or a
// deadlock, which Transact retries.
var errSerialization = errors.New("postgres: the transaction conflicted with a concurrent one")

// translate turns an error from pgx into the store's error vocabulary:
// fhir.NotFound for no row; a Conflict for a unique violation, and for a
// serialization failure or deadlock (marked errSerialization, which Transact
// retries); fhir.Unavailable when the server cannot be reached or is going
// away; an Internal fhir.Wrap otherwise. The pgx error itself is not kept:
// only its SQLSTATE, constraint and message, and not the message of a data
// exception (class 22), which may quote a value. A context's end is kept as
// the cause, so errors.Is(err, context.Canceled) holds.
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
	if errors.Is(err, pgx.ErrNoRows) {
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "the resource is not known")
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		cause := describe(pe)
		switch {
		case pe.Code == "40001" || pe.Code == "40P01":
			return &fhir.Error{Kind: fhir.Conflict, Err: fmt.Errorf("%w: %w", errSerialization, cause), Issues: []fhir.Issue{{
				Severity: fhir.SeverityError, Code: fhir.IssueTransient,
				Diagnostics: "the transaction conflicted with concurrent ones; retry",
			}}}
		case pe.Code == "23505":
			return &fhir.Error{Kind: fhir.Conflict, Err: cause, Issues: []fhir.Issue{{
				Severity: fhir.SeverityError, Code: fhir.IssueConflict, Diagnostics: op + " conflicts with stored data",
			}}}
		case pe.Code[:2] == "08" || slices.Contains([]string{"57P01", "57P02", "57P03", "53300"}, pe.Code):
			return unavailable(cause)
		}
		return fhir.Wrap(cause, op)
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok || pgconn.SafeToRetry(err) {
		return unavailable(errors.New("postgres: " + err.Error()))
	}
	return fhir.Wrap(errors.New("postgres: "+err.Error()), op)
}

// describe returns what may be logged of pe.
func describe(pe *pgconn.PgError) error {
	msg := pe.Message
	if len(pe.Code) >= 2 && pe.Code[:2] == "22" {
		msg = "data exception"
	}
	if pe.ConstraintName != "" {
		return fmt.Errorf("postgres: %s (SQLSTATE %s, constraint %s)", msg, pe.Code, pe.ConstraintName)
	}
	return fmt.Errorf("postgres: %s (SQLSTATE %s)", msg, pe.Code)
}

func unavailable(cause error) error {
	return &fhir.Error{Kind: fhir.Unavailable, Err: cause, Issues: []fhir.Issue{{
		Severity: fhir.SeverityError, Code: fhir.IssueTransient, Diagnostics: "the database is not available; retry later",
	}}}
}

// isUniqueOn reports whether err is a unique violation of one of the named
// constraints.
func isUniqueOn(err error, constraints ...string) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pe.Code == "23505" && slices.Contains(constraints, pe.ConstraintName)
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
	return fhir.Wrap(errors.New("postgres: "+err.Error()), "migrate")
}
