package rest

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/fhir"
)

// handleBundle serves POST [base] with a transaction or batch Bundle.
func (s *Server) handleBundle(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	bundle, err := fhir.DecodeResource(body)
	if err != nil {
		return err
	}
	if rt := bundle.Str("resourceType"); rt != "Bundle" {
		return fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, "resourceType",
			"the base accepts a Bundle, not a %s; post single resources to [base]/%s", rt, rt)
	}
	out, err := s.gateway.ProcessBundle(c.Request().Context(), bundle)
	if err != nil {
		return err
	}
	return writeBody(c, http.StatusOK, s.bundleResponse(c, out))
}

// bundleResponse encodes a transaction-response or batch-response. Entries
// carry their resource when Prefer: return=representation is sent, and an
// OperationOutcome when Prefer: return=OperationOutcome is sent or the
// entry failed.
func (s *Server) bundleResponse(c echo.Context, out adapter.BundleResult) []byte {
	ret, explicit, _ := preferences(c)
	b := fhir.BundleOut{Type: "transaction-response", Total: -1, Entries: make([]fhir.EntryOut, len(out.Entries))}
	if out.Kind == fhir.Batch {
		b.Type = "batch-response"
	}
	base := s.base(c)
	for i, r := range out.Entries {
		e := &b.Entries[i]
		if r.Err != nil {
			st := Status(r.Err.Kind)
			issues := r.Err.Issues
			if st >= 500 {
				issues = []fhir.Issue{{Code: fhir.IssueException, Diagnostics: "the server could not process this entry"}}
				s.log.ErrorContext(c.Request().Context(), "batch entry failed", "request_id", requestIDOf(c), "entry", i, "err", r.Err.Error())
			}
			e.Response = &fhir.EntryResponse{Status: statusLine(st), Outcome: fhir.OperationOutcome(issues)}
			continue
		}
		res := r.Resource
		e.Response = &fhir.EntryResponse{Status: statusLine(r.Status)}
		switch {
		case r.Search != nil:
			e.Resource = s.searchset(c, r.Search.Query.Type, *r.Search)
		case res.VersionID > 0:
			e.FullURL = base + "/" + res.Type + "/" + res.ID
			e.Response.Location = res.Type + "/" + res.ID + "/_history/" + strconv.FormatInt(res.VersionID, 10)
			e.Response.Etag = fhir.ETag(res.VersionID)
			e.Response.LastModified = res.LastUpdated
			// A read's resource is its answer; a write's is sent when asked for.
			if res.Body != nil && (r.Method == http.MethodGet || explicit && ret == returnRepresentation) {
				e.Resource = res.Body
			}
		}
		if explicit && ret == returnOutcome {
			e.Response.Outcome = fhir.OperationOutcome(outcomeIssues(r))
		}
	}
	return b.Encode()
}
