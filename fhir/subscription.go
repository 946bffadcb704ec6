package fhir

import (
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Subscription is an R4 Subscription as CareBridge runs it: a rest-hook
// channel that is told about every new version of a resource matching a
// search.
type Subscription struct {
	// Status is the status as written: requested, active, error or off.
	Status string
	// Criteria is the search a new version must match to be notified.
	Criteria *Query
	// Endpoint is the absolute http or https URL notifications go to.
	Endpoint string
	// Payload is the media type the matched resource is sent in, or ""
	// for notifications without a body.
	Payload string
	// Headers are the channel.header lines, to send with every
	// notification.
	Headers []Header
	// End is when the Subscription stops matching; zero for never.
	End time.Time
}

// Header is one HTTP header a Subscription asks notifications to carry.
type Header struct {
	Name, Value string
}

// Subscription statuses (http://hl7.org/fhir/subscription-status).
const (
	SubscriptionRequested = "requested"
	SubscriptionActive    = "active"
	SubscriptionError     = "error"
	SubscriptionOff       = "off"
)

// reservedHeaders are the headers a Subscription may not set: the gateway
// writes them itself, or they belong to the transport.
var reservedHeaders = []string{"connection", "content-length", "content-type", "host", "transfer-encoding", "upgrade"}

// ReservedHeaderPrefix starts the names of the headers CareBridge adds to
// notifications (the notification and subscription ids); a Subscription may
// not set them.
const ReservedHeaderPrefix = "X-CareBridge-"

// criteriaResultParams are search result parameters, which mean nothing in
// criteria: a criteria filters single resources.
var criteriaResultParams = []string{"_count", "_sort", "_total", "_summary", "_page_token", "_format", "_pretty", "_elements"}

// ReadSubscription checks a Subscription resource that ValidateResource
// has accepted against what CareBridge supports, and returns it parsed:
//
//   - channel.type is rest-hook (others are not supported);
//   - channel.endpoint is an absolute http or https URL without a fragment;
//   - channel.payload is absent (notifications without a body) or a JSON
//     FHIR media type (application/fhir+json, application/json);
//   - channel.header lines read "Name: value", with a valid header name
//     other than the transport's and ReservedHeaderPrefix's;
//   - criteria is a search on a served type, as ParseQuery accepts it,
//     without result parameters (_count, _sort...). A reference parameter
//     given an identifier (owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001)
//     is read as :identifier, the way NHS systems name organisations.
//
// Dates in the criteria without a zone are read in loc. The error is an
// *Error of kind Unprocessable listing every problem, each with the
// expression of the element at fault (Subscription.criteria,
// Subscription.channel.header[1]).
func ReadSubscription(res Value, loc *time.Location) (*Subscription, error) {
	var issues []Issue
	fail := func(code IssueType, expr, format string, args ...any) {
		issues = append(issues, Errorf(Unprocessable, code, expr, format, args...).Issues...)
	}
	s := &Subscription{Status: res.Str("status")}
	if end := res.Str("end"); end != "" {
		t, err := time.Parse(time.RFC3339Nano, end)
		if err != nil {
			fail(IssueValue, "Subscription.end", "end %q is not an instant with a time zone", end)
		}
		s.End = t
	}
	q, err := ParseCriteria(res.Str("criteria"), loc)
	if err != nil {
		issues = append(issues, AsError(err).Issues...)
	}
	s.Criteria = q
	ch, _ := res.Get("channel")
	switch typ := ch.Str("type"); typ {
	case "rest-hook":
	default:
		fail(IssueNotSupported, "Subscription.channel.type", "channel type %q is not supported; CareBridge sends rest-hook notifications only", typ)
	}
	s.Endpoint = ch.Str("endpoint")
	if problem := checkEndpoint(s.Endpoint); problem != "" {
		fail(IssueValue, "Subscription.channel.endpoint", "%s", problem)
	}
	if p := ch.Str("payload"); p != "" {
		mt, _, err := mime.ParseMediaType(p)
		switch {
		case err == nil && (mt == "application/fhir+json" || mt == "application/json"):
			s.Payload = mt
		default:
			fail(IssueNotSupported, "Subscription.channel.payload", "payload %q is not supported; leave it out for notifications without a body, or use application/fhir+json", p)
		}
	}
	headers, _ := ch.Get("header")
	for i, h := range headers.Items() {
		expr := "Subscription.channel.header[" + strconv.Itoa(i) + "]"
		name, value, ok := strings.Cut(h.Text(), ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || !isHeaderName(name):
			fail(IssueValue, expr, "a header is written \"Name: value\", not %q", h.Text())
		case strings.ContainsAny(value, "\r\n\x00"):
			fail(IssueValue, expr, "the value of header %s holds a line break", name)
		case reservedHeader(name):
			fail(IssueValue, expr, "header %s is set by the gateway or the transport, not by a Subscription", name)
		default:
			s.Headers = append(s.Headers, Header{Name: name, Value: value})
		}
	}
	if len(issues) > 0 {
		return nil, &Error{Kind: Unprocessable, Issues: issues}
	}
	return s, nil
}

// ParseCriteria parses a Subscription's criteria, "Type?search", as
// ReadSubscription describes; problems are reported at
// Subscription.criteria, with kind Unprocessable.
func ParseCriteria(criteria string, loc *time.Location) (*Query, error) {
	const expr = "Subscription.criteria"
	typ, search, _ := strings.Cut(criteria, "?")
	if !Served(typ) {
		return nil, Errorf(Unprocessable, IssueNotSupported, expr, "criteria %q does not start with a resource type this server holds, as in Task?owner:identifier=...", criteria)
	}
	params, err := url.ParseQuery(search)
	if err != nil {
		return nil, Errorf(Unprocessable, IssueValue, expr, "criteria %q is not a valid search: %s", criteria, err)
	}
	for name := range params {
		base, _, _ := strings.Cut(name, ":")
		for _, r := range criteriaResultParams {
			if base == r {
				return nil, Errorf(Unprocessable, IssueNotSupported, expr, "criteria select resources one by one; %s has no meaning there", name)
			}
		}
	}
	identifierReferences(typ, params)
	q, _, err := ParseQuery(typ, params, QueryOptions{Location: loc})
	if err != nil {
		e := AsError(err)
		out := &Error{Kind: Unprocessable, Issues: make([]Issue, len(e.Issues))}
		for i, is := range e.Issues {
			if is.Expression != "" {
				is.Diagnostics = is.Expression + ": " + is.Diagnostics
			}
			is.Expression = expr
			out.Issues[i] = is
		}
		return nil, out
	}
	return q, nil
}

// identifierReferences moves the values of plain reference parameters that
// are all identifiers (system|value) to the parameter's :identifier form.
func identifierReferences(typ string, params url.Values) {
	for name, vals := range params {
		sp := lookupParam(typ, name)
		if sp == nil || sp.Type != ReferenceParam {
			continue
		}
		var keep []string
		for _, v := range vals {
			if isIdentifierList(v) {
				params[name+":identifier"] = append(params[name+":identifier"], v)
			} else {
				keep = append(keep, v)
			}
		}
		if keep == nil {
			delete(params, name)
		} else {
			params[name] = keep
		}
	}
}

// isIdentifierList reports whether every comma-separated item of a search
// value is system|value.
func isIdentifierList(v string) bool {
	items := searchSplit(v, ',')
	for _, it := range items {
		if searchIndexUnescaped(it, '|') <= 0 {
			return false
		}
	}
	return len(items) > 0
}

// checkEndpoint returns why endpoint cannot receive rest-hook
// notifications, or "".
func checkEndpoint(endpoint string) string {
	if endpoint == "" {
		return "a rest-hook channel needs an endpoint, the URL notifications are sent to"
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "endpoint " + quoteValue(endpoint) + " is not an absolute http or https URL"
	case u.Fragment != "" || strings.Contains(endpoint, "#"):
		return "endpoint " + quoteValue(endpoint) + " has a fragment, which is never sent"
	}
	return ""
}

// isHeaderName reports whether s is an HTTP field name (an RFC 9110 token).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func reservedHeader(name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, strings.ToLower(ReservedHeaderPrefix)) {
		return true
	}
	for _, r := range reservedHeaders {
		if lower == r {
			return true
		}
	}
	return false
}
