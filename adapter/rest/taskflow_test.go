package rest_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTaskStatusChanges takes a Task through its life over HTTP: each
// accepted change bumps the version (ETag and meta.versionId); a stale
// If-Match is refused with 412; a change rule 16 does not allow, a status
// without what it needs, ready, and a delete of an unfinished Task are
// refused with 422 and an OperationOutcome that says why, and change
// nothing.
func TestTaskStatusChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		task := func(status, extra string) string {
			return `{"resourceType":"Task","id":"t1","status":"` + status + `","intent":"order",` + extra + `
				"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}}}`
		}
		accepted := func(r response, version string) {
			t.Helper()
			if et := r.header.Get("ETag"); et != `W/"`+version+`"` {
				t.Errorf(`ETag = %q, want W/"%s"`, et, version)
			}
			if meta, _ := r.json(t)["meta"].(map[string]any); meta["versionId"] != version {
				t.Errorf("meta.versionId = %v, want %s", meta["versionId"], version)
			}
		}
		refused := func(r response, status int, expression string, words ...string) {
			t.Helper()
			r.mustStatus(t, status)
			is := r.issues(t)
			if len(is) != 1 || is[0].Expression != expression || is[0].Severity != "error" {
				t.Fatalf("issues = %+v, want one error at %s", is, expression)
			}
			for _, w := range words {
				if !strings.Contains(is[0].Diagnostics, w) {
					t.Errorf("diagnostics %q do not say %q", is[0].Diagnostics, w)
				}
			}
		}

		accepted(c.do("PUT", "Task/t1", task("requested", "")).mustStatus(t, http.StatusCreated), "1")
		accepted(c.do("PUT", "Task/t1", task("accepted", ""), "If-Match", `W/"1"`).mustStatus(t, http.StatusOK), "2")
		refused(c.do("PUT", "Task/t1", task("in-progress", ""), "If-Match", `W/"1"`), http.StatusPreconditionFailed, "", "version 2")
		accepted(c.do("PUT", "Task/t1", task("in-progress", ""), "If-Match", `W/"2"`).mustStatus(t, http.StatusOK), "3")

		r := c.do("PUT", "Task/t1", task("requested", ""), "If-Match", `W/"3"`)
		refused(r, http.StatusUnprocessableEntity, "Task.status", "from in-progress to requested", "cancelled, on-hold, failed or completed")
		if is := r.issues(t); is[0].Code != "business-rule" {
			t.Errorf("issue code %q, want business-rule", is[0].Code)
		}
		refused(c.do("PUT", "Task/t1", task("completed", "")), http.StatusUnprocessableEntity, "Task.output", "at least one output")
		refused(c.do("PUT", "Task/t1", task("ready", "")), http.StatusUnprocessableEntity, "Task.status", "ready is not used")
		refused(c.do("DELETE", "Task/t1", nil), http.StatusUnprocessableEntity, "Task.status", "cancel it")
		accepted(c.do("GET", "Task/t1", nil).mustStatus(t, http.StatusOK), "3")

		done := task("completed", `"statusReason":{"text":"done at the surgery"},`)
		accepted(c.do("PUT", "Task/t1", done, "If-Match", `W/"3"`).mustStatus(t, http.StatusOK), "4")
		// A retry of the accepted change changes nothing.
		accepted(c.do("PUT", "Task/t1", done).mustStatus(t, http.StatusOK), "4")
		refused(c.do("PUT", "Task/t1", task("in-progress", "")), http.StatusUnprocessableEntity, "Task.status",
			"from completed to in-progress", "completed is final")
		c.do("DELETE", "Task/t1", nil).mustStatus(t, http.StatusNoContent)

		// In a transaction, the refusal points into the Bundle.
		c.do("PUT", "Task/t2", strings.Replace(task("requested", ""), `"t1"`, `"t2"`, 1)).mustStatus(t, http.StatusCreated)
		bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":` + strings.Replace(task("failed", ""), `"t1"`, `"t2"`, 1) + `,"request":{"method":"PUT","url":"Task/t2"}}]}`
		refused(c.do("POST", "", bundle), http.StatusUnprocessableEntity, "Bundle.entry[0].resource.status", "from requested to failed")
	})
}
