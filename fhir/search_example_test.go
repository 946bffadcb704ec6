package fhir_test

import (
	"fmt"
	"net/url"
	"time"

	"github.com/carebridge/carebridge/fhir"
)

// A GP practice polls the Tasks it owns: the query is parsed once, its
// canonical form goes into the Bundle's self link, and the same Query finds
// a Task by its search index.
func ExampleParseQuery() {
	london, _ := time.LoadLocation("Europe/London")
	params, _ := url.ParseQuery("owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82005" +
		"&status=requested,received&authored-on=ge2025-04-01&_sort=_lastUpdated&_count=20")
	q, _, err := fhir.ParseQuery("Task", params, fhir.QueryOptions{Location: london})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Canonical().Encode())

	task, _ := fhir.ParseJSON([]byte(`{"resourceType":"Task","status":"requested","intent":"order",
		"authoredOn":"2025-04-01T08:30:00+01:00",
		"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82005"}}}`))
	ix, _ := fhir.ExtractIndex("Task", task, london)
	fmt.Println(q.Matches("task-1", time.Now(), ix))

	_, _, err = fhir.ParseQuery("Task", url.Values{"ownr": {"B82005"}}, fhir.QueryOptions{})
	fmt.Println(err)
	// Output:
	// _count=20&_sort=_lastUpdated&authored-on=ge2025-04-01&owner%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CB82005&status=requested%2Creceived
	// true
	// invalid: ownr: unknown search parameter 'ownr' for Task (did you mean 'owner'?)
}
