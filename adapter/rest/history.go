package rest

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// handleInstanceHistory serves GET [base]/Type/id/_history.
func (s *Server) handleInstanceHistory(c echo.Context) error {
	return s.history(c, c.Param("id"))
}

// handleTypeHistory serves GET [base]/Type/_history.
func (s *Server) handleTypeHistory(c echo.Context) error {
	return s.history(c, "")
}

func (s *Server) history(c echo.Context, id string) error {
	page, err := s.gateway.History(c.Request().Context(), c.Param("type"), id, c.QueryParams())
	if err != nil {
		return err
	}
	return writeBody(c, http.StatusOK, s.historyBundle(c, page))
}

func (s *Server) historyBundle(c echo.Context, page adapter.HistoryPage) []byte {
	base := s.base(c)
	path := base + "/" + page.Type
	if page.ID != "" {
		path += "/" + page.ID
	}
	path += "/_history"
	q := url.Values{"_count": {strconv.Itoa(page.Count)}}
	if !page.Since.IsZero() {
		q.Set("_since", fhir.FormatInstant(page.Since))
	}
	b := fhir.BundleOut{Type: "history", Total: page.Result.Total, Links: []fhir.Link{{Relation: "self", URL: path + "?" + q.Encode()}}}
	if page.Result.Next != 0 {
		q.Set("_page_token", fhir.EncodePageToken(fhir.PageToken{Key: page.Result.Next}))
		b.Links = append(b.Links, fhir.Link{Relation: "next", URL: path + "?" + q.Encode()})
	}
	for _, v := range page.Result.Versions {
		b.Entries = append(b.Entries, historyEntry(base, v))
	}
	return b.Encode()
}

// historyEntry is the entry of a history Bundle for version v: the
// resource (none for a delete), the request that made it and its response.
func historyEntry(base string, v store.Resource) fhir.EntryOut {
	e := fhir.EntryOut{
		FullURL:  base + "/" + v.Type + "/" + v.ID,
		Resource: v.Body,
		Request:  &fhir.EntryRequest{Method: v.Method, URL: v.Type + "/" + v.ID},
		Response: &fhir.EntryResponse{Etag: fhir.ETag(v.VersionID), LastModified: v.LastUpdated},
	}
	switch {
	case v.Deleted:
		e.Response.Status = statusLine(http.StatusNoContent)
	case v.VersionID == 1 || v.Method == http.MethodPost:
		e.Response.Status = statusLine(http.StatusCreated)
	default:
		e.Response.Status = statusLine(http.StatusOK)
	}
	if v.Method == http.MethodPost {
		e.Request.URL = v.Type
	}
	return e
}

// statusLine is a status as Bundle.entry.response.status gives it: "201 Created".
func statusLine(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
