package fhir

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a failure. The REST layer maps each Kind to one HTTP status
// in one place; nothing else decides statuses.
type Kind uint8

// The kinds of failure, in the order of the HTTP statuses they map to.
const (
	Internal           Kind = iota // 500: a fault of ours, never the sender's
	Invalid                        // 400: malformed input (syntax, unknown element, bad parameter)
	Unauthorized                   // 401
	Forbidden                      // 403
	NotFound                       // 404
	MethodNotAllowed               // 405
	NotAcceptable                  // 406: the client asked for a format we do not produce
	Conflict                       // 409
	Gone                           // 410: the resource was deleted
	PreconditionFailed             // 412: If-Match mismatch, ambiguous conditional match
	TooLarge                       // 413
	URITooLong                     // 414: the request target is longer than the server reads
	UnsupportedMedia               // 415
	Unprocessable                  // 422: well-formed but breaks a FHIR or business rule
	TooManyRequests                // 429
	Unavailable                    // 503: a dependency (the database) is not reachable
)

var kindNames = [...]string{
	Internal:           "internal",
	Invalid:            "invalid",
	Unauthorized:       "unauthorized",
	Forbidden:          "forbidden",
	NotFound:           "not-found",
	MethodNotAllowed:   "method-not-allowed",
	NotAcceptable:      "not-acceptable",
	Conflict:           "conflict",
	Gone:               "gone",
	PreconditionFailed: "precondition-failed",
	TooLarge:           "too-large",
	URITooLong:         "uri-too-long",
	UnsupportedMedia:   "unsupported-media",
	Unprocessable:      "unprocessable",
	TooManyRequests:    "too-many-requests",
	Unavailable:        "unavailable",
}

// String returns the kind's name, as it appears in logs.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Severity is an OperationOutcome issue severity.
type Severity string

// OperationOutcome issue severities (http://hl7.org/fhir/issue-severity).
const (
	SeverityFatal       Severity = "fatal"
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// IssueType is an OperationOutcome issue type code (http://hl7.org/fhir/issue-type).
type IssueType string

// The issue type codes CareBridge uses.
const (
	IssueInvalid         IssueType = "invalid"
	IssueStructure       IssueType = "structure"
	IssueRequired        IssueType = "required"
	IssueValue           IssueType = "value"
	IssueInvariant       IssueType = "invariant"
	IssueBusinessRule    IssueType = "business-rule"
	IssueSecurity        IssueType = "security"
	IssueLogin           IssueType = "login"
	IssueForbidden       IssueType = "forbidden"
	IssueProcessing      IssueType = "processing"
	IssueNotSupported    IssueType = "not-supported"
	IssueDuplicate       IssueType = "duplicate"
	IssueMultipleMatches IssueType = "multiple-matches"
	IssueNotFound        IssueType = "not-found"
	IssueDeleted         IssueType = "deleted"
	IssueTooLong         IssueType = "too-long"
	IssueCodeInvalid     IssueType = "code-invalid"
	IssueConflict        IssueType = "conflict"
	IssueException       IssueType = "exception"
	IssueThrottled       IssueType = "throttled"
	IssueTransient       IssueType = "transient"
	IssueInformational   IssueType = "informational"
)

// Issue is one OperationOutcome issue: what is wrong (Code, Diagnostics) and
// where (Expression, a FHIRPath such as "Bundle.entry[3].resource.code").
type Issue struct {
	Severity    Severity
	Code        IssueType
	Diagnostics string
	Expression  string
}

// Error is the one error type that crosses CareBridge's package borders.
// Its Kind decides the HTTP status; its Issues become the OperationOutcome.
// Diagnostics may be returned to the sender, so they must never carry another
// organisation's data; they are not logged for 4xx kinds.
type Error struct {
	Kind   Kind
	Issues []Issue
	Err    error // the cause, for logs only; never shown to the sender
}

// Errorf returns an *Error of the given kind with one error-severity issue.
func Errorf(kind Kind, code IssueType, expression, format string, args ...any) *Error {
	return &Error{Kind: kind, Issues: []Issue{{
		Severity:    SeverityError,
		Code:        code,
		Expression:  expression,
		Diagnostics: fmt.Sprintf(format, args...),
	}}}
}

// Wrap returns an *Error of kind Internal that keeps err as its cause and tells
// the sender only that the operation failed.
func Wrap(err error, operation string) *Error {
	return &Error{Kind: Internal, Err: err, Issues: []Issue{{
		Severity:    SeverityError,
		Code:        IssueException,
		Diagnostics: operation + " failed",
	}}}
}

// Error returns the first issue's diagnostics, prefixed by its expression.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	for i, is := range e.Issues {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Issues)-i)
			break
		}
		b.WriteString(": ")
		if is.Expression != "" {
			b.WriteString(is.Expression)
			b.WriteString(": ")
		}
		b.WriteString(is.Diagnostics)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Kind with no issues of its
// own, so that errors.Is(err, fhir.ErrNotFound) tests the kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && len(t.Issues) == 0 && t.Err == nil && t.Kind == e.Kind
}

// Sentinels for errors.Is; they carry only a Kind.
var (
	ErrNotFound           = &Error{Kind: NotFound}
	ErrGone               = &Error{Kind: Gone}
	ErrConflict           = &Error{Kind: Conflict}
	ErrPreconditionFailed = &Error{Kind: PreconditionFailed}
	ErrInvalid            = &Error{Kind: Invalid}
	ErrUnprocessable      = &Error{Kind: Unprocessable}
)

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Internal
}

// AsError returns err as an *Error: the first one in its chain, or an
// Internal error wrapping it.
func AsError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	return Wrap(err, "request")
}

// WithPrefix returns a copy of e whose issue expressions are prefixed, so that
// an error found in a Bundle entry's resource points into the Bundle: prefix
// "Bundle.entry[2].resource" turns "Patient.name" into
// "Bundle.entry[2].resource.name". The resource type at the start of each
// expression is replaced by the prefix.
func (e *Error) WithPrefix(prefix string) *Error {
	out := &Error{Kind: e.Kind, Err: e.Err, Issues: make([]Issue, len(e.Issues))}
	for i, is := range e.Issues {
		is.Expression = prefixExpression(prefix, is.Expression)
		out.Issues[i] = is
	}
	return out
}

func prefixExpression(prefix, expr string) string {
	if expr == "" {
		return prefix
	}
	// Drop the leading resource type ("Patient" in "Patient.name[0]").
	if i := strings.IndexAny(expr, ".["); i >= 0 {
		return prefix + expr[i:]
	}
	return prefix
}
