package adapter

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
	"github.com/carebridge/carebridge/mappings"
)

// projectItem is one new version whose shared-care facts must be updated.
type projectItem struct {
	Type      string
	ID        string
	VersionID int64
	Deleted   bool
	Res       *fhir.Value // the stored resource; nil when Deleted
	// New says the resource has no projection row yet and nothing can
	// reference it: its id was just assigned by the server, or the
	// projection is being rebuilt in dependency order.
	New bool
}

// projector keeps the shared-care projection in step with the stored
// resources, inside the write transaction that stores them: each resource's
// facts, through the mapping profile of its source. A person's record is
// assembled from the facts about them when it is read (Gateway.Record), so
// a write never rewrites a record, and two writes about one person cannot
// lose each other's facts.
type projector struct {
	reg *mappings.Registry
}

// projectionOrder puts Organizations first and Patients second, so that the
// resources of one transaction that reference them resolve.
func projectionOrder(t string) int {
	switch t {
	case "Organization":
		return 0
	case "Patient":
		return 1
	}
	return 2
}

// project updates the projection for items and returns, per "Type/id", the
// warnings about what the profile could not map, and the people whose facts
// changed: those its new rows are about, those whose Patients changed, and
// those deleted resources were about. (An update that moves a resource
// from one person to another is seen from the new person only: reading
// every old row would cost every write a query.)
func (p *projector) project(ctx context.Context, tx store.Tx, items []projectItem) (map[string][]fhir.Issue, []string, error) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b projectItem) int { return cmp.Compare(projectionOrder(a.Type), projectionOrder(b.Type)) })
	warnings := map[string][]fhir.Issue{}
	res := &txResolver{tx: tx, patients: map[string]string{}, orgs: map[string]string{}}

	// Organizations and Patients map first and are remembered by the
	// resolver, so the resources that reference them resolve without
	// reading rows this projection has not stored yet: every row goes in
	// one PutProjections at the end.
	var patients []patientChange
	var people []string
	rows := make([]store.Projection, 0, len(items))
	for _, it := range items {
		row := store.Projection{Type: it.Type, ID: it.ID, VersionID: it.VersionID}
		if it.Deleted && !it.New {
			old, found, err := tx.Projection(ctx, it.Type, it.ID)
			if err != nil {
				return nil, nil, err
			}
			if found && old.Person != "" {
				people = append(people, old.Person)
			}
		}
		if !it.Deleted && it.Res != nil {
			source := get(*it.Res, "meta").Str("source")
			m, ok := p.reg.ForSource(source)
			if ok && source != TaskSource {
				facts, err := m.Map(ctx, sharedcare.SourceRef{Type: it.Type, ID: it.ID, VersionID: it.VersionID}, *it.Res, res)
				if err != nil {
					return nil, nil, err
				}
				if w := unmappedIssues(facts.Unmapped); len(w) > 0 {
					warnings[it.Type+"/"+it.ID] = w
				}
				if row, err = encodeFacts(row, m.Profile().ID, facts); err != nil {
					return nil, nil, err
				}
			}
		}
		switch it.Type {
		case "Patient":
			if !it.New {
				// The rows that followed this Patient are found by the
				// NHS number it had.
				old, _, err := tx.Projection(ctx, "Patient", it.ID)
				if err != nil {
					return nil, nil, err
				}
				patients = append(patients, patientChange{it.ID, old.Person})
				people = append(people, old.Person)
			}
			res.patients[it.ID] = row.Person
		case "Organization":
			res.orgs[it.ID] = row.Org
		}
		rows = append(rows, row)
	}

	// Resources stored earlier that point at a Patient written now follow
	// that Patient's NHS number.
	written := make(map[string]bool, len(items))
	for _, it := range items {
		written[it.Type+"/"+it.ID] = true
	}
	for _, pc := range patients {
		deps, err := tx.ProjectionsReferencing(ctx, pc.id, pc.oldPerson)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range deps {
			if written[d.Type+"/"+d.ID] {
				continue
			}
			row, err := p.remap(ctx, tx, d, res)
			if err != nil {
				return nil, nil, err
			}
			rows = append(rows, row)
		}
	}
	if err := tx.PutProjections(ctx, rows); err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		people = append(people, r.Person)
	}
	return warnings, people, nil
}

// patientChange is a Patient written again, and the NHS number it had.
type patientChange struct{ id, oldPerson string }

// remap maps a stored resource again with the profile that mapped it before.
func (p *projector) remap(ctx context.Context, tx store.Tx, d store.Projection, res *txResolver) (store.Projection, error) {
	row := store.Projection{Type: d.Type, ID: d.ID, VersionID: d.VersionID}
	m, ok := p.reg.Mapper(d.Profile)
	if !ok {
		return row, nil // the profile is no longer configured: the row goes
	}
	// Current locks the resource (on PostgreSQL), so a concurrent update of
	// it cannot be overwritten with a projection of its older version.
	if _, err := tx.Current(ctx, d.Type, []string{d.ID}); err != nil {
		return row, err
	}
	cur, err := tx.Read(ctx, d.Type, d.ID)
	if err != nil {
		return row, err
	}
	v, err := fhir.ParseJSON(cur.Body)
	if err != nil {
		return row, fmt.Errorf("re-read %s/%s: %w", d.Type, d.ID, err)
	}
	facts, err := m.Map(ctx, sharedcare.SourceRef{Type: d.Type, ID: d.ID, VersionID: cur.VersionID}, v, res)
	if err != nil {
		return row, err
	}
	row.VersionID = cur.VersionID
	return encodeFacts(row, m.Profile().ID, facts)
}

// unmappedIssues turns what a profile could not map into warnings.
func unmappedIssues(us []sharedcare.Unmapped) []fhir.Issue {
	out := make([]fhir.Issue, 0, len(us))
	for _, u := range us {
		what := u.Code
		if u.System != "" {
			what = u.System + "|" + u.Code
		}
		out = append(out, fhir.Issue{
			Severity: fhir.SeverityWarning, Code: fhir.IssueCodeInvalid, Expression: u.Expression,
			Diagnostics: fmt.Sprintf("mapping profile %s could not map %s %s: %s; the resource is stored and the item is listed in the unmapped report", u.Profile, u.What, what, u.Reason),
		})
	}
	return out
}

// txResolver resolves literal references against the projection rows of
// the transaction, remembering the answers (and the rows this projection
// has written) so that a Bundle's references to its own Patients cost no
// query.
type txResolver struct {
	tx       store.Tx
	patients map[string]string // Patient id -> NHS number ("" when none)
	orgs     map[string]string // Organization id -> ODS code ("" when none)
}

func (r *txResolver) PatientNHSNumber(ctx context.Context, id string) (string, bool, error) {
	return r.lookup(ctx, r.patients, "Patient", id, func(p store.Projection) string { return p.Person })
}

func (r *txResolver) OrganizationODS(ctx context.Context, id string) (string, bool, error) {
	return r.lookup(ctx, r.orgs, "Organization", id, func(p store.Projection) string { return p.Org })
}

func (r *txResolver) lookup(ctx context.Context, cache map[string]string, typ, id string, field func(store.Projection) string) (string, bool, error) {
	v, ok := cache[id]
	if !ok {
		row, found, err := r.tx.Projection(ctx, typ, id)
		if err != nil {
			return "", false, err
		}
		if found {
			v = field(row)
		}
		cache[id] = v
	}
	return v, v != "", nil
}

func get(v fhir.Value, name string) fhir.Value {
	out, _ := v.Get(name)
	return out
}
