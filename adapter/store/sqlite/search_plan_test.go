package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// TestTaskPollSearchProbesStatusPerCandidate checks the plan of a
// practice's poll (owner:identifier=ods|X&status=requested): it starts from
// the practice's Tasks and tests each one's status through the (key, param)
// index, instead of first collecting every requested Task of every practice,
// which made the search three times slower over 20,000 Tasks
// (BenchmarkSearchTasks). SQLite plans without statistics, so the plan does
// not depend on the data.
func TestTaskPollSearchProbesStatusPerCandidate(t *testing.T) {
	st := openPlan(t)
	q := &fhir.Query{Type: "Task", Count: 50, Clauses: []fhir.Clause{
		{Param: "status", Type: fhir.TokenParam, Values: []fhir.ClauseValue{{Code: "requested"}}},
		ownerClause,
	}}
	text := explain(t, st, q, nil)
	if !strings.Contains(text, "EXISTS USING COVERING INDEX search_token_key (key=? AND param=?") {
		t.Errorf("the status clause is not probed through search_token_key; plan:\n%s", text)
	}
	if strings.Contains(text, "BLOOM FILTER") || strings.Contains(text, "USE TEMP B-TREE") {
		t.Errorf("the plan collects or sorts rows it should probe; plan:\n%s", text)
	}
}

// ownerClause is owner:identifier=ods|A81001, a practice's Tasks.
var ownerClause = fhir.Clause{Param: "owner", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier,
	Values: []fhir.ClauseValue{{System: "https://fhir.nhs.uk/Id/ods-organization-code", HasSystem: true, Code: "A81001"}}}

// TestViewerIsProbedPerCandidate checks the plan of a search by owner for a
// Viewer that sees by grant and by person: it starts from the owner's Tasks
// and tests each candidate's grant by the (key, ods) primary key, and its
// person through its projection row (type, id) and person_org's (person,
// ods) prefix, rather than collecting everything the organisation may
// see.
func TestViewerIsProbedPerCandidate(t *testing.T) {
	st := openPlan(t)
	q := &fhir.Query{Type: "Task", Count: 50, Clauses: []fhir.Clause{ownerClause}}
	for _, viewer := range []store.Viewer{{ODS: "A81001"}, {ODS: "A81001", ByPerson: true}} {
		text := explain(t, st, q, &viewer)
		want := []string{
			// The candidates: the owner's Tasks, by key.
			"SEARCH search_reference USING PRIMARY KEY (param=? AND kind=? AND value=? AND system=? AND type=?)",
			"SEARCH r USING INDEX resources_type (type=? AND rowid=?)",
			// Each candidate's grant.
			"USING PRIMARY KEY (key=? AND ods=?)",
		}
		if viewer.ByPerson {
			// Each candidate's person, and whether the organisation may
			// see them.
			want = append(want, "SEARCH p USING INDEX sqlite_autoindex_sc_projection_1 (type=? AND id=?)",
				"SEARCH o USING PRIMARY KEY (person=? AND ods=?)")
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%+v: the plan has no %q; plan:\n%s", viewer, w, text)
			}
		}
		for _, scan := range []string{"SCAN g", "SCAN o", "SCAN p", "BLOOM FILTER", "USE TEMP B-TREE"} {
			if strings.Contains(text, scan) {
				t.Errorf("%+v: the plan has %q; plan:\n%s", viewer, scan, text)
			}
		}
	}
}

// openPlan opens an empty, migrated database: SQLite plans without
// statistics, so the plan does not depend on the data.
func openPlan(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// explain returns the plan of the page statement of a search of q as
// viewer, one line per step.
func explain(t *testing.T, st *Store, q *fhir.Query, viewer *store.Viewer) string {
	t.Helper()
	s, err := sqlindex.SearchStatement(sqlindex.SQLite, q, viewer, versionColumns)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+s.SQL(), s.Args()...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
