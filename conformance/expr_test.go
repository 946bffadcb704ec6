package conformance

import (
	"encoding/json"
	"testing"
)

const sampleBundle = `{
  "resourceType": "Bundle", "type": "searchset", "total": 3,
  "link": [{"relation": "self", "url": "http://x/fhir/Task?a=1"}, {"relation": "next", "url": "http://x/fhir/Task?page=2"}],
  "entry": [
    {"resource": {"resourceType": "Task", "id": "t1", "status": "requested", "priority": 1, "owner": {"identifier": {"value": "A12345"}}}},
    {"resource": {"resourceType": "Task", "id": "t2", "status": "completed", "priority": 3, "owner": {"identifier": {"value": "B23456"}}}},
    {"resource": {"resourceType": "Patient", "id": "p1", "active": true, "name": [{"family": "Smith", "given": ["Ann", "B"]}]}}
  ]
}`

func TestExpressions(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(sampleBundle), &doc); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		expr string
		want string // the result collection as JSON
	}{
		{"resourceType", `["Bundle"]`},
		{"Bundle.total", `[3]`},
		{"entry.resource.id", `["t1","t2","p1"]`},
		{"entry[1].resource.id", `["t2"]`},
		{"entry[7].resource.id", `null`},
		{"entry.resource.name.given", `["Ann","B"]`},
		{"entry.resource.where(resourceType = 'Task' and status = 'requested').id", `["t1"]`},
		{"entry.resource.where(status != 'requested').id", `["t2"]`},
		{"entry.resource.where(status = 'requested' or resourceType = 'Patient').id", `["t1","p1"]`},
		{"entry.resource.where(owner.identifier.value = 'B23456').id", `["t2"]`},
		{"entry.resource.where(priority > 2).id", `["t2"]`},
		{"entry.resource.where(active).id", `["p1"]`},
		{"entry.resource.where(name.exists()).id", `["p1"]`},
		{"entry.resource.ofType(Task).count()", `[2]`},
		{"entry.resource.status.first()", `["requested"]`},
		{"entry.resource.status.last()", `["completed"]`},
		{"entry.resource.resourceType.distinct()", `["Task","Patient"]`},
		{"link.where(relation = 'next').url", `["http://x/fhir/Task?page=2"]`},
		{"entry.exists()", `[true]`},
		{"issue.empty()", `[true]`},
		{"entry.resource.select(id).count()", `[3]`},
		{"(total = 3)", `[true]`},
		{"total = '3'", `[true]`},
		{"entry.resource.where(id = 'nope').exists().not()", `[true]`},
		{"$this.type", `["searchset"]`},
	}
	for _, c := range cases {
		e, err := CompileExpr(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got, err := e.Eval(doc)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != c.want {
			t.Errorf("%s = %s, want %s", c.expr, b, c.want)
		}
	}
}

func TestExpressionsRefused(t *testing.T) {
	for _, src := range []string{
		"", "entry.", "entry[x]", "where(", "foo()", "entry.where(a = 'b'", "'open", "a == b", "ofType('Task')", "first(1)",
	} {
		if _, err := CompileExpr(src); err == nil {
			t.Errorf("%q compiled, want an error", src)
		}
	}
}

func TestAssertionOperators(t *testing.T) {
	cases := []struct {
		op   string
		got  []any
		want any
		ok   bool
	}{
		{"equals", []any{"1"}, 1, true},
		{"equals", []any{1.0}, "1", true},
		{"equals", []any{"a"}, "b", false},
		{"equals", []any{"a", "a"}, "a", false}, // one value wanted
		{"notEquals", []any{"a"}, "b", true},
		{"oneOf", []any{"b"}, []any{"a", "b"}, true},
		{"oneOf", []any{"c"}, []any{"a", "b"}, false},
		{"contains", []any{"x", "y"}, "y", true},
		{"contains", []any{"application/fhir+json; charset=utf-8"}, "fhir+json", true},
		{"contains", []any{"x"}, "y", false},
		{"notContains", []any{"x", "y"}, "y", false},
		{"matches", []any{"W/\"2\""}, `^W/"\d+"$`, true},
		{"matches", []any{"2"}, `^W/`, false},
		{"exists", nil, false, true},
		{"exists", []any{1.0}, false, false},
		{"count", []any{1.0, 2.0}, 2, true},
		{"count", []any{1.0}, 2, false},
		{"greaterThan", []any{"2026-01-02"}, "2026-01-01", true},
		{"greaterThan", []any{10.0}, 9, true},
		{"greaterThan", []any{"9"}, 10, false},
		{"lessThan", []any{1.0}, 2, true},
		{"equals", []any{"a", "b"}, []any{"a", "b"}, true},
		{"equals", []any{"b", "a"}, []any{"a", "b"}, false},
		{"equals", []any{"a"}, []any{"a", "b"}, false},
		{"notEquals", []any{"a", "b"}, []any{"a"}, true},
	}
	for _, c := range cases {
		msg, err := applyOp(c.op, c.got, c.want)
		if err != nil {
			t.Errorf("%s %v %v: %v", c.op, c.got, c.want, err)
			continue
		}
		if (msg == "") != c.ok {
			t.Errorf("%s %v %v: holds=%v (%q), want %v", c.op, c.got, c.want, msg == "", msg, c.ok)
		}
	}
}
