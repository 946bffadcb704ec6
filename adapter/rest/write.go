package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/fhir"
)

// handleCreate serves POST [base]/Type, with If-None-Exist for a
// conditional create.
func (s *Server) handleCreate(c echo.Context) error {
	typ := c.Param("type")
	if !fhir.Served(typ) {
		return typeNotServed(typ)
	}
	res, err := s.decodeResource(c, typ)
	if err != nil {
		return err
	}
	out, err := s.gateway.Create(c.Request().Context(), res, c.Request().Header.Get("If-None-Exist"))
	if err != nil {
		return err
	}
	return s.writeResult(c, out)
}

// handleUpdate serves PUT [base]/Type/id, with If-Match for a versioned update.
func (s *Server) handleUpdate(c echo.Context) error {
	typ := c.Param("type")
	if !fhir.Served(typ) {
		return typeNotServed(typ)
	}
	res, err := s.decodeResource(c, typ)
	if err != nil {
		return err
	}
	out, err := s.gateway.Update(c.Request().Context(), typ, c.Param("id"), res, c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	return s.writeResult(c, out)
}

// handleConditionalUpdate serves PUT [base]/Type?search.
func (s *Server) handleConditionalUpdate(c echo.Context) error {
	typ := c.Param("type")
	if !fhir.Served(typ) {
		return typeNotServed(typ)
	}
	query := searchParams(c)
	if len(query) == 0 {
		return fhir.Errorf(fhir.Invalid, fhir.IssueRequired, "", "a conditional update needs search parameters: PUT %s?identifier=...", typ)
	}
	res, err := s.decodeResource(c, typ)
	if err != nil {
		return err
	}
	out, err := s.gateway.ConditionalUpdate(c.Request().Context(), typ, query, res, c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	return s.writeResult(c, out)
}

// handleDelete serves DELETE [base]/Type/id.
func (s *Server) handleDelete(c echo.Context) error {
	out, err := s.gateway.Delete(c.Request().Context(), c.Param("type"), c.Param("id"), c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	return s.writeResult(c, out)
}

// handleConditionalDelete serves DELETE [base]/Type?search.
func (s *Server) handleConditionalDelete(c echo.Context) error {
	typ := c.Param("type")
	if !fhir.Served(typ) {
		return typeNotServed(typ)
	}
	query := searchParams(c)
	if len(query) == 0 {
		return fhir.Errorf(fhir.Invalid, fhir.IssueRequired, "", "a conditional delete needs search parameters: DELETE %s?identifier=...", typ)
	}
	out, err := s.gateway.ConditionalDelete(c.Request().Context(), typ, query)
	if err != nil {
		return err
	}
	return s.writeResult(c, out)
}

// writeResult answers a write as Prefer asks: the resource (default), an
// OperationOutcome, or nothing.
func (s *Server) writeResult(c echo.Context, out adapter.EntryResult) error {
	ret, _, _ := preferences(c)
	r := out.Resource
	if out.Status == http.StatusCreated {
		c.Response().Header().Set("Location", s.location(c, r))
	}
	if r.VersionID > 0 {
		versionHeaders(c, r)
	}
	if out.Status == http.StatusNoContent {
		if ret == returnOutcome {
			return writeBody(c, http.StatusOK, fhir.OperationOutcome(outcomeIssues(out)))
		}
		return c.NoContent(http.StatusNoContent)
	}
	switch ret {
	case returnMinimal:
		return c.NoContent(out.Status)
	case returnOutcome:
		return writeBody(c, out.Status, fhir.OperationOutcome(outcomeIssues(out)))
	}
	return writeBody(c, out.Status, r.Body)
}

// outcomeIssues are the issues to report for a successful write: what was
// done, then any warnings the write raised (a code no profile maps, say).
func outcomeIssues(out adapter.EntryResult) []fhir.Issue {
	for _, is := range out.Issues {
		if is.Code == fhir.IssueInformational {
			return out.Issues // the write has said what it did
		}
	}
	what := "written"
	switch out.Status {
	case http.StatusCreated:
		what = "created"
	case http.StatusOK:
		what = "updated"
	case http.StatusNoContent:
		what = "deleted"
	}
	d := out.Resource.Type + "/" + out.Resource.ID + " " + what
	if out.Resource.ID == "" {
		d = what
	}
	done := fhir.Issue{Severity: fhir.SeverityInformation, Code: fhir.IssueInformational, Diagnostics: d}
	return append([]fhir.Issue{done}, out.Issues...)
}

func typeNotServed(typ string) error {
	return fhir.Errorf(fhir.NotFound, fhir.IssueNotSupported, "", "resource type %q is not served here", typ)
}
