package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

func TestTranslateKeepsNoDriverErrorAndNoValues(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		err       error
		kind      fhir.Kind
		retryable bool
	}{
		{"no row", pgx.ErrNoRows, fhir.NotFound, false},
		{"unique violation", &pgconn.PgError{Code: "23505", ConstraintName: "resources_id_unique",
			Message: "duplicate key value violates unique constraint", Detail: "Key (type, id)=(Patient, 9000000009) already exists."},
			fhir.Conflict, false},
		{"serialization failure", &pgconn.PgError{Code: "40001", Message: "could not serialize access"}, fhir.Conflict, true},
		{"deadlock", &pgconn.PgError{Code: "40P01", Message: "deadlock detected", Detail: "Process 1 waits for ShareLock"}, fhir.Conflict, true},
		{"data exception", &pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type bigint: "9000000009"`}, fhir.Internal, false},
		{"server shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, fhir.Unavailable, false},
		{"connection failure", &pgconn.PgError{Code: "08006", Message: "connection failure"}, fhir.Unavailable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := translate(ctx, tc.err, "put")
			if got := fhir.KindOf(err); got != tc.kind {
				t.Errorf("kind %v, want %v (%v)", got, tc.kind, err)
			}
			if _, ok := errors.AsType[*pgconn.PgError](err); ok {
				t.Errorf("the *pgconn.PgError is still in the chain: %v", err)
			}
			if errors.Is(err, pgx.ErrNoRows) {
				t.Errorf("pgx.ErrNoRows is still in the chain: %v", err)
			}
			if strings.Contains(err.Error(), "9000000009") {
				t.Errorf("the error quotes a value: %v", err)
			}
			if got := retryable(err); got != tc.retryable {
				t.Errorf("retryable = %v, want %v", got, tc.retryable)
			}
		})
	}
}

func TestTranslateKeepsTheEndOfTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := translate(ctx, errors.New("timeout: context already done"), "read")
	if !errors.Is(err, context.Canceled) || fhir.KindOf(err) != fhir.Internal {
		t.Errorf("err = %v, want an Internal *fhir.Error that is context.Canceled", err)
	}
}

func TestPutErrorIsAVersionRaceOnlyForVersionConstraints(t *testing.T) {
	ctx := context.Background()
	for _, c := range []string{"versions_version_unique", "resources_id_unique"} {
		if err := putError(ctx, &pgconn.PgError{Code: "23505", ConstraintName: c}); !errors.Is(err, store.ErrVersionRace) {
			t.Errorf("unique violation of %s: err = %v, want store.ErrVersionRace", c, err)
		}
	}
	if err := putError(ctx, &pgconn.PgError{Code: "23505", ConstraintName: "search_token_pkey"}); errors.Is(err, store.ErrVersionRace) {
		t.Errorf("unique violation of an index row: err = %v, want no version race", err)
	}
}
