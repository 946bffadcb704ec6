package adapter

import (
	"context"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// BundleResult is the outcome of a transaction or batch, one result per
// entry in Bundle order.
type BundleResult struct {
	Kind    fhir.BundleKind
	Entries []EntryResult
}

// ProcessBundle runs a validated transaction or batch Bundle. A transaction
// is all or nothing: any failing entry fails the whole Bundle with that
// entry's error, and nothing is stored. A batch runs each entry in its own
// store transaction and reports failures per entry.
func (g *Gateway) ProcessBundle(ctx context.Context, bundle fhir.Value) (BundleResult, error) {
	kind, entries, err := fhir.PlanBundle(bundle)
	if err != nil {
		return BundleResult{}, err
	}
	if kind == fhir.Transaction {
		var results []EntryResult
		err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			results, err = g.execute(ctx, tx, entries, transaction)
			return err
		})
		if err != nil {
			return BundleResult{}, failedWrite(err, g.auditWriteFailure(ctx, entries, transaction, err))
		}
		return BundleResult{Kind: kind, Entries: results}, nil
	}
	results := make([]EntryResult, len(entries))
	for i := range entries {
		if entries[i].Err != nil {
			results[i] = EntryResult{Method: entries[i].Method, Err: entries[i].Err}
			continue
		}
		one := entries[i : i+1 : i+1]
		var r []EntryResult
		err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			r, err = g.execute(ctx, tx, one, batchEntry)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return BundleResult{}, err
			}
			if aerr := g.auditWriteFailure(ctx, one, batchEntry, err); aerr != nil {
				return BundleResult{}, aerr
			}
			results[i] = EntryResult{Method: entries[i].Method, Err: fhir.AsError(err)}
			continue
		}
		results[i] = r[0]
	}
	return BundleResult{Kind: kind, Entries: results}, nil
}
