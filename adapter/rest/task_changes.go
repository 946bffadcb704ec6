package rest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/fhir"
)

// handleTaskChanges serves GET [base]/Task/$changes: an owner's Task
// change feed after a cursor, as a history Bundle in commit order whose
// next link carries the cursor to send next time. With Prefer: wait=N an
// empty page waits up to N seconds (at most adapter.MaxChangesWait) for a
// change; the wait ends early when the client goes or the server stops.
func (s *Server) handleTaskChanges(c echo.Context) error {
	ctx := c.Request().Context()
	wait, asked := preferredWait(c)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if wait > 0 {
		go func() {
			select {
			case <-s.stopping:
				cancel()
			case <-waitCtx.Done():
			}
		}()
	}
	page, err := s.gateway.TaskChanges(ctx, c.QueryParams(), waitCtx)
	if err != nil {
		return err
	}
	if asked {
		c.Response().Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(wait/time.Second)))
	}
	return writeBody(c, http.StatusOK, s.changesBundle(c, page))
}

// preferredWait reads Prefer: wait=N (seconds), capped at
// adapter.MaxChangesWait; asked is false when there is none, or none that
// makes sense.
func preferredWait(c echo.Context) (wait time.Duration, asked bool) {
	eachPreference(c, func(k, v string) {
		if k != "wait" {
			return
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			wait, asked = min(time.Duration(n)*time.Second, adapter.MaxChangesWait), true
		}
	})
	return wait, asked
}

// changesBundle encodes a page of the feed: a history Bundle with the
// changes oldest first, a self link with the cursor the page started
// from, and a next link with the one to send next time, on every page.
func (s *Server) changesBundle(c echo.Context, page adapter.TaskChangesPage) []byte {
	base := s.base(c)
	path := base + "/Task/$changes?"
	q := url.Values{"owner": {page.Owner}, "_count": {strconv.Itoa(page.Count)}}
	if len(page.Statuses) > 0 {
		q.Set("status", strings.Join(page.Statuses, ","))
	}
	if page.Cursor != "" {
		q.Set("cursor", page.Cursor)
	}
	self := path + q.Encode()
	q.Set("cursor", page.Next)
	b := fhir.BundleOut{Type: "history", Total: -1, Links: []fhir.Link{{Relation: "self", URL: self}, {Relation: "next", URL: path + q.Encode()}}}
	b.Entries = make([]fhir.EntryOut, 0, len(page.Changes))
	for _, e := range page.Changes {
		b.Entries = append(b.Entries, historyEntry(base, e.Version))
	}
	return b.Encode()
}
