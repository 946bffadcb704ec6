package adapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// ErrNoMappings is returned by projection work when the Gateway has no
// mapping profiles.
var ErrNoMappings = errors.New("no mapping profiles are configured")

// Reindex rebuilds the whole shared-care projection from the stored
// resources: it clears it, then maps every current resource again,
// Organizations and Patients first, in transactions of batch resources.
// progress, when not nil, is told how many resources are done. It returns
// the number of resources mapped.
func (g *Gateway) Reindex(ctx context.Context, batch int, progress func(done int)) (int, error) {
	if g.proj == nil {
		return 0, ErrNoMappings
	}
	if batch <= 0 {
		batch = 500
	}
	if err := g.store.Transact(ctx, func(ctx context.Context, tx store.Tx) error { return tx.ClearProjections(ctx) }); err != nil {
		return 0, fmt.Errorf("clear the projection: %w", err)
	}
	done := 0
	for _, first := range []bool{true, false} {
		var after int64
		for {
			rs, err := g.store.ScanCurrent(ctx, after, batch)
			if err != nil {
				return done, err
			}
			if len(rs) == 0 {
				break
			}
			after = rs[len(rs)-1].Key
			items := make([]projectItem, 0, len(rs))
			for _, r := range rs {
				if (projectionOrder(r.Type) < 2) != first {
					continue
				}
				v, err := fhir.ParseJSON(r.Body)
				if err != nil {
					return done, fmt.Errorf("read %s/%s: %w", r.Type, r.ID, err)
				}
				// New: the projection was cleared, and Organizations and
				// Patients come first, so no row exists and none depends.
				items = append(items, projectItem{Type: r.Type, ID: r.ID, VersionID: r.VersionID, Res: &v, New: true})
			}
			if len(items) == 0 {
				continue
			}
			err = g.store.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
				_, _, err := g.proj.project(ctx, tx, items)
				return err
			})
			if err != nil {
				return done, fmt.Errorf("reindex: %w", err)
			}
			done += len(items)
			if progress != nil {
				progress(done)
			}
		}
	}
	return done, nil
}

// Record assembles a person's shared-care record from the committed facts
// about them; fhir.NotFound when nothing is known about the person.
func (g *Gateway) Record(ctx context.Context, nhsNumber string) (sharedcare.Record, error) {
	rows, err := g.store.ProjectionsOfPerson(ctx, nhsNumber)
	if err != nil {
		return sharedcare.Record{}, err
	}
	if len(rows) == 0 {
		return sharedcare.Record{}, fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "no shared-care record is known for this NHS number")
	}
	facts := make([]sharedcare.Facts, len(rows))
	for i, r := range rows {
		if facts[i], err = decodeFacts(r); err != nil {
			return sharedcare.Record{}, err
		}
	}
	return sharedcare.Assemble(nhsNumber, facts), nil
}

// UnmappedReport lists what the mapping profiles could not map, with counts.
func (g *Gateway) UnmappedReport(ctx context.Context) ([]store.UnmappedCount, error) {
	return g.store.UnmappedReport(ctx)
}
