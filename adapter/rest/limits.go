package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/fhir"
)

// changesRoute is the route of the Task change feed, the one long poll.
const changesRoute = "/fhir/Task/$changes"

// errRequestTimeout is the cause of a handler context that ran out of time.
var errRequestTimeout = errors.New("the request ran out of time")

// limitRequest refuses, before any work, a request target longer than
// MaxURLBytes (414) and a body that says it is larger than MaxBodyBytes
// (413); any other body, chunked or not, is cut at MaxBodyBytes, and
// reading past that fails with 413.
func (s *Server) limitRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if len(req.RequestURI) > s.cfg.MaxURLBytes {
			return fhir.Errorf(fhir.URITooLong, fhir.IssueTooLong, "",
				"the URL is longer than the %d bytes this server reads; send search parameters in a POST _search body", s.cfg.MaxURLBytes)
		}
		if req.ContentLength > s.cfg.MaxBodyBytes {
			return errorf(http.StatusRequestEntityTooLarge, "the body is larger than the %d bytes this server accepts", s.cfg.MaxBodyBytes)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes)
		return next(c)
	}
}

// deadline gives a handler RequestTimeout to do its work; a long poll on
// the Task change feed gets its wait on top, on its context and on the
// connection's write deadline. A handler that fails because it ran out of
// time answers 503.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		budget := s.cfg.RequestTimeout
		if c.Path() == changesRoute {
			if wait, _ := preferredWait(c); wait > 0 {
				budget += wait
				// The response comes after the wait: the write timeout,
				// counted from the end of the headers, must not end first.
				// Writers without deadlines (tests' recorders) need none.
				_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout + wait))
			}
		}
		ctx, cancel := context.WithTimeoutCause(req.Context(), budget, errRequestTimeout)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		c.SetRequest(req)
		if err != nil && context.Cause(ctx) == errRequestTimeout && req.Context().Err() == nil &&
			(errors.Is(err, context.DeadlineExceeded) || Status(toFHIRError(err).Kind) >= 500) {
			return &fhir.Error{Kind: fhir.Unavailable, Err: err, Issues: []fhir.Issue{{
				Severity:    fhir.SeverityError,
				Code:        fhir.IssueTransient,
				Diagnostics: "the request took longer than the " + budget.String() + " this server allows",
			}}}
		}
		return err
	}
}
