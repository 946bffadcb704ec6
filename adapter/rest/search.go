package rest

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/fhir"
)

// handleSearch serves GET [base]/Type?params.
func (s *Server) handleSearch(c echo.Context) error {
	return s.search(c, c.QueryParams())
}

// handleSearchPost serves POST [base]/Type/_search with parameters in the
// form body and the URL.
func (s *Server) handleSearchPost(c echo.Context) error {
	params := url.Values{}
	for k, v := range c.QueryParams() {
		params[k] = append(params[k], v...)
	}
	if c.Request().ContentLength != 0 {
		body, err := s.readBody(c)
		if err != nil {
			return err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "", "the _search body is not a valid form (application/x-www-form-urlencoded)")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return s.search(c, params)
}

func (s *Server) search(c echo.Context, params url.Values) error {
	typ := c.Param("type")
	_, _, lenient := preferences(c)
	page, err := s.gateway.Search(c.Request().Context(), typ, params, lenient)
	if err != nil {
		return err
	}
	return writeBody(c, http.StatusOK, s.searchset(c, typ, page))
}

// searchset encodes a page of results with self and next links.
func (s *Server) searchset(c echo.Context, typ string, page adapter.SearchPage) []byte {
	base := s.base(c)
	self := base + "/" + typ
	q := page.Query.Canonical()
	if enc := q.Encode(); enc != "" {
		self += "?" + enc
	}
	b := fhir.BundleOut{Type: "searchset", Total: page.Result.Total, Links: []fhir.Link{{Relation: "self", URL: self}}}
	if page.Result.Next != nil {
		q.Set("_page_token", fhir.EncodePageToken(*page.Result.Next))
		b.Links = append(b.Links, fhir.Link{Relation: "next", URL: base + "/" + typ + "?" + q.Encode()})
	}
	b.Entries = make([]fhir.EntryOut, 0, len(page.Result.Resources)+1)
	for _, r := range page.Result.Resources {
		b.Entries = append(b.Entries, fhir.EntryOut{
			FullURL: base + "/" + r.Type + "/" + r.ID, Resource: r.Body, SearchMode: "match",
		})
	}
	if len(page.Warnings) > 0 {
		b.Entries = append(b.Entries, fhir.EntryOut{Resource: fhir.OperationOutcome(page.Warnings), SearchMode: "outcome"})
	}
	return b.Encode()
}

// searchParams returns the URL's parameters without the presentation ones,
// for conditional updates and deletes.
func searchParams(c echo.Context) url.Values {
	out := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "_format" && k != "_pretty" {
			out[k] = v
		}
	}
	return out
}
