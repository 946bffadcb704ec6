package adapter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
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
// facts (through the mapping profile of its source), then the assembled
// record of every person the write touched.
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
// warnings about what the profile could not map.
func (p *projector) project(ctx context.Context, tx store.Tx, items []projectItem) (map[string][]fhir.Issue, error) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b projectItem) int { return cmp.Compare(projectionOrder(a.Type), projectionOrder(b.Type)) })
	touched := map[string]bool{}
	warnings := map[string][]fhir.Issue{}
	res := &txResolver{tx: tx, patients: map[string]string{}, orgs: map[string]string{}}

	// Groups in order, each stored before the next maps, so references
	// from later groups resolve against earlier ones.
	var patients []string
	for start := 0; start < len(items); {
		end := start
		for end < len(items) && projectionOrder(items[end].Type) == projectionOrder(items[start].Type) {
			end++
		}
		rows := make([]store.Projection, 0, end-start)
		for _, it := range items[start:end] {
			if !it.New {
				old, had, err := tx.Projection(ctx, it.Type, it.ID)
				if err != nil {
					return nil, err
				}
				if had && old.Person != "" {
					touched[old.Person] = true
				}
			}
			row := store.Projection{Type: it.Type, ID: it.ID, VersionID: it.VersionID}
			if !it.Deleted && it.Res != nil {
				m, ok := p.reg.ForSource(get(*it.Res, "meta").Str("source"))
				if ok {
					facts, err := m.Map(ctx, sharedcare.SourceRef{Type: it.Type, ID: it.ID, VersionID: it.VersionID}, *it.Res, res)
					if err != nil {
						return nil, err
					}
					if row, err = projectionRow(row, m.Profile().ID, facts); err != nil {
						return nil, err
					}
					if w := unmappedIssues(facts.Unmapped); len(w) > 0 {
						warnings[it.Type+"/"+it.ID] = w
					}
				}
			}
			if row.Person != "" {
				touched[row.Person] = true
			}
			switch {
			case it.Type == "Patient":
				res.patients[it.ID] = row.Person
				if !it.New {
					patients = append(patients, it.ID)
				}
			case it.Type == "Organization":
				res.orgs[it.ID] = row.Org
			}
			rows = append(rows, row)
		}
		if err := tx.PutProjections(ctx, rows); err != nil {
			return nil, err
		}
		start = end
	}

	// Resources stored earlier that point at a Patient written now follow
	// that Patient's NHS number.
	written := map[string]bool{}
	for _, it := range items {
		written[it.Type+"/"+it.ID] = true
	}
	for _, id := range patients {
		deps, err := tx.ProjectionsReferencing(ctx, id)
		if err != nil {
			return nil, err
		}
		var rows []store.Projection
		for _, d := range deps {
			if written[d.Type+"/"+d.ID] {
				continue
			}
			row, err := p.remap(ctx, tx, d, res)
			if err != nil {
				return nil, err
			}
			if d.Person != "" {
				touched[d.Person] = true
			}
			if row.Person != "" {
				touched[row.Person] = true
			}
			rows = append(rows, row)
		}
		if err := tx.PutProjections(ctx, rows); err != nil {
			return nil, err
		}
	}

	if err := assembleRecords(ctx, tx, slices.Sorted(maps.Keys(touched))); err != nil {
		return nil, err
	}
	return warnings, nil
}

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
	return projectionRow(row, m.Profile().ID, facts)
}

// projectionRow fills a store row from mapped facts.
func projectionRow(row store.Projection, profile string, f sharedcare.Facts) (store.Projection, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return row, fmt.Errorf("encode shared-care facts: %w", err)
	}
	row.Person, row.Org, row.PatientRef, row.Profile, row.Facts = f.NHSNumber, f.Org, f.PatientRef, profile, data
	for _, u := range f.Unmapped {
		row.Unmapped = append(row.Unmapped, store.Unmapped{What: u.What, System: u.System, Code: u.Code, Expression: u.Expression, Reason: u.Reason})
	}
	return row, nil
}

// assembleRecords rebuilds people's records from their projection rows.
//
// The people are locked first: two transactions about one person then
// assemble one after the other, and the second sees the first's rows, so
// neither overwrites the record with a version that lacks the other's facts.
func assembleRecords(ctx context.Context, tx store.Tx, people []string) error {
	if len(people) == 0 {
		return nil
	}
	keys := make([]string, len(people))
	for i, n := range people {
		keys[i] = "sharedcare-person:" + n
	}
	if err := tx.Lock(ctx, keys...); err != nil {
		return err
	}
	rows, err := tx.ProjectionsOfPeople(ctx, people)
	if err != nil {
		return err
	}
	facts := map[string][]sharedcare.Facts{}
	for _, r := range rows {
		var f sharedcare.Facts
		if err := json.Unmarshal(r.Facts, &f); err != nil {
			return fmt.Errorf("decode the shared-care facts of %s/%s: %w", r.Type, r.ID, err)
		}
		facts[r.Person] = append(facts[r.Person], f)
	}
	records := make(map[string][]byte, len(people))
	for _, n := range people {
		if len(facts[n]) == 0 {
			records[n] = nil
			continue
		}
		data, err := json.Marshal(sharedcare.Assemble(n, facts[n]))
		if err != nil {
			return fmt.Errorf("encode the shared-care record: %w", err)
		}
		records[n] = data
	}
	return tx.PutRecords(ctx, records)
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
