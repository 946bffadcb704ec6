package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/fhir"
)

// statusOf is the one table from fhir.Kind to HTTP status.
var statusOf = [...]int{
	fhir.Internal:           http.StatusInternalServerError,
	fhir.Invalid:            http.StatusBadRequest,
	fhir.Unauthorized:       http.StatusUnauthorized,
	fhir.Forbidden:          http.StatusForbidden,
	fhir.NotFound:           http.StatusNotFound,
	fhir.MethodNotAllowed:   http.StatusMethodNotAllowed,
	fhir.NotAcceptable:      http.StatusNotAcceptable,
	fhir.Conflict:           http.StatusConflict,
	fhir.Gone:               http.StatusGone,
	fhir.PreconditionFailed: http.StatusPreconditionFailed,
	fhir.TooLarge:           http.StatusRequestEntityTooLarge,
	fhir.URITooLong:         http.StatusRequestURITooLong,
	fhir.UnsupportedMedia:   http.StatusUnsupportedMediaType,
	fhir.Unprocessable:      http.StatusUnprocessableEntity,
	fhir.TooManyRequests:    http.StatusTooManyRequests,
	fhir.Unavailable:        http.StatusServiceUnavailable,
}

// kindOfStatus is statusOf inverted, for errors raised by Echo itself.
var kindOfStatus = func() map[int]fhir.Kind {
	m := make(map[int]fhir.Kind, len(statusOf))
	for k, st := range statusOf {
		m[st] = fhir.Kind(k)
	}
	return m
}()

// Status returns the HTTP status of an error kind.
func Status(k fhir.Kind) int {
	if int(k) < len(statusOf) && statusOf[k] != 0 {
		return statusOf[k]
	}
	return http.StatusInternalServerError
}

// issueCodeOfStatus gives Echo's own errors an OperationOutcome issue code.
func issueCodeOfStatus(status int) fhir.IssueType {
	switch status {
	case http.StatusNotFound:
		return fhir.IssueNotFound
	case http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType, http.StatusNotAcceptable:
		return fhir.IssueNotSupported
	case http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong:
		return fhir.IssueTooLong
	case http.StatusUnauthorized:
		return fhir.IssueLogin
	case http.StatusForbidden:
		return fhir.IssueForbidden
	case http.StatusTooManyRequests:
		return fhir.IssueThrottled
	}
	return fhir.IssueProcessing
}

// errorf returns an *fhir.Error for an HTTP status with one issue.
func errorf(status int, format string, args ...any) *fhir.Error {
	k, ok := kindOfStatus[status]
	if !ok {
		k = fhir.Internal
	}
	return fhir.Errorf(k, issueCodeOfStatus(status), "", format, args...)
}

// toFHIRError converts any error a handler or Echo returns.
func toFHIRError(err error) *fhir.Error {
	if fe, ok := errors.AsType[*fhir.Error](err); ok {
		return fe
	}
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errorf(http.StatusRequestEntityTooLarge, "the body is larger than the %d bytes this server accepts", mbe.Limit)
	}
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		switch he.Code {
		case http.StatusNotFound:
			return errorf(he.Code, "there is no such endpoint; the FHIR API is at /fhir")
		case http.StatusMethodNotAllowed:
			return errorf(he.Code, "this method is not allowed on this endpoint")
		case http.StatusRequestEntityTooLarge:
			return errorf(he.Code, "the body is too large")
		}
		if he.Code < 500 {
			return errorf(he.Code, "%s", fmt.Sprint(he.Message))
		}
	}
	return fhir.Wrap(err, "the request")
}

// abandoned reports whether err is the end of the request's own context.
func abandoned(c echo.Context, err error) bool {
	return c.Request().Context().Err() != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// handleError is Echo's one error handler: it writes every failure as an
// OperationOutcome with the status of its kind. Server faults are logged
// with an error id that the response also carries; sender faults are not
// logged with their diagnostics, which may hold personal data.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	fe := toFHIRError(err)
	if abandoned(c, err) {
		// The client went away (or shutdown ran out of time): not a fault
		// of ours, and nobody reads the answer.
		s.log.InfoContext(c.Request().Context(), "request abandoned before it finished", "request_id", requestIDOf(c))
		fe = fhir.Errorf(fhir.Unavailable, fhir.IssueTransient, "", "the request was abandoned before it finished")
		c.Set(ctxErrorKind, fe.Kind.String())
		_ = writeBody(c, Status(fe.Kind), fhir.OperationOutcome(fe.Issues))
		return
	}
	status := Status(fe.Kind)
	issues := fe.Issues
	if status >= 500 {
		errorID := uuid.NewString()
		s.log.ErrorContext(c.Request().Context(), "request failed",
			"request_id", requestIDOf(c), "error_id", errorID, "kind", fe.Kind.String(), "err", fe.Error())
		issues = []fhir.Issue{{
			Severity:    fhir.SeverityError,
			Code:        fhir.IssueException,
			Diagnostics: "the server could not complete the request; quote error id " + errorID + " to the service desk",
		}}
		if fe.Kind == fhir.Unavailable {
			issues[0].Code = fhir.IssueTransient
		}
	}
	c.Set(ctxErrorKind, fe.Kind.String())
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = writeBody(c, status, fhir.OperationOutcome(issues))
}
