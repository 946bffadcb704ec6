package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
	ctx := context.Background()
	st, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q := &fhir.Query{Type: "Task", Count: 50, Clauses: []fhir.Clause{
		{Param: "status", Type: fhir.TokenParam, Values: []fhir.ClauseValue{{Code: "requested"}}},
		{Param: "owner", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier,
			Values: []fhir.ClauseValue{{System: "https://fhir.nhs.uk/Id/ods-organization-code", HasSystem: true, Code: "A81001"}}},
	}}
	s := sqlindex.NewStatement(sqlindex.SQLite)
	s.Write(`SELECT ` + versionColumns + ` FROM resources r JOIN versions v ON v.seq = r.current_seq WHERE `)
	if err := sqlindex.Where(s, q); err != nil {
		t.Fatal(err)
	}
	sqlindex.OrderBy(s, q)
	rows, err := st.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.SQL(), s.Args()...)
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
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "EXISTS USING COVERING INDEX search_token_key (key=? AND param=?") {
		t.Errorf("the status clause is not probed through search_token_key; plan:\n%s", text)
	}
	if strings.Contains(text, "BLOOM FILTER") || strings.Contains(text, "USE TEMP B-TREE") {
		t.Errorf("the plan collects or sorts rows it should probe; plan:\n%s", text)
	}
}
