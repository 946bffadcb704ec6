package fhir

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// BundleKind says how a Bundle's entries are processed.
type BundleKind uint8

// The Bundle types the server processes at its base.
const (
	Transaction BundleKind = iota + 1 // all or nothing
	Batch                             // each entry on its own
)

// Entry is one request of a transaction or batch Bundle, checked and parsed.
type Entry struct {
	Index       int        // position in Bundle.entry
	FullURL     string     // Bundle.entry.fullUrl, "" when absent
	Method      string     // GET, POST, PUT or DELETE
	Type        string     // the resource type the request URL names
	ID          string     // "Type/id" requests; "" otherwise
	Version     int64      // GET "Type/id/_history/n"; 0 otherwise
	Query       url.Values // "Type?query": conditional PUT/DELETE, or a GET search
	IfNoneExist url.Values // POST conditional create; nil when absent
	IfMatch     int64      // the version If-Match requires; 0 when absent
	Resource    *Value     // POST and PUT
	Err         *Error     // batch only: why this entry cannot be processed
}

// Expr returns the FHIRPath of this entry's element, for issues.
func (e *Entry) Expr(rest string) string {
	p := "Bundle.entry[" + strconv.Itoa(e.Index) + "]"
	if rest != "" {
		p += "." + rest
	}
	return p
}

// Conditional reports whether the request URL is a search ("Type?query").
func (e *Entry) Conditional() bool { return e.Query != nil }

// PlanBundle checks a validated Bundle posted to the base and parses its
// entries. A transaction with any bad entry fails as a whole (the error says
// which entry); a batch keeps going and records each bad entry's Err.
func PlanBundle(b Value) (BundleKind, []Entry, error) {
	var kind BundleKind
	switch t := b.Str("type"); t {
	case "transaction":
		kind = Transaction
	case "batch":
		kind = Batch
	default:
		return 0, nil, Errorf(Invalid, IssueNotSupported, "Bundle.type",
			"Bundle.type %q cannot be posted to the base: CareBridge processes 'transaction' and 'batch' Bundles", t)
	}
	items, _ := b.Get("entry")
	entries := make([]Entry, 0, items.Len())
	fullURLs := make(map[string]int)
	for i := range items.Items() {
		e, err := planEntry(i, items.ItemPtr(i))
		if err == nil && e.FullURL != "" {
			if j, dup := fullURLs[e.FullURL]; dup {
				err = Errorf(Invalid, IssueInvariant, e.Expr("fullUrl"),
					"fullUrl %q is also the fullUrl of Bundle.entry[%d]; fullUrls must be unique (bdl-7)", e.FullURL, j)
			}
			fullURLs[e.FullURL] = i
		}
		if err != nil {
			if kind == Transaction {
				return kind, nil, err
			}
			e.Err = err
		}
		entries = append(entries, e)
	}
	if kind == Transaction {
		if err := checkDistinctTargets(entries); err != nil {
			return kind, nil, err
		}
	}
	return kind, entries, nil
}

func planEntry(i int, item *Value) (Entry, *Error) {
	e := Entry{Index: i, FullURL: item.Str("fullUrl")}
	req, ok := item.Get("request")
	if !ok {
		return e, Errorf(Invalid, IssueRequired, e.Expr("request"),
			"every entry of a transaction or batch needs a request (bdl-3)")
	}
	e.Method = req.Str("method")
	rawURL := req.Str("url")
	if res := item.Ptr("resource"); res != nil {
		e.Resource = res
	}
	switch e.Method {
	case "GET", "POST", "PUT", "DELETE":
	case "":
		return e, Errorf(Invalid, IssueRequired, e.Expr("request.method"), "request.method is required")
	default:
		return e, Errorf(Invalid, IssueNotSupported, e.Expr("request.method"),
			"request.method %s is not supported in a Bundle; use GET, POST, PUT or DELETE", e.Method)
	}
	if err := parseRequestURL(&e, rawURL); err != nil {
		return e, err
	}
	if m := req.Str("ifMatch"); m != "" {
		v, ok := ParseETag(m)
		if !ok {
			return e, Errorf(Invalid, IssueValue, e.Expr("request.ifMatch"),
				"ifMatch %q is not a version tag such as W/\"3\"", m)
		}
		e.IfMatch = v
	}
	if c := req.Str("ifNoneExist"); c != "" {
		if e.Method != "POST" {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("request.ifNoneExist"),
				"ifNoneExist applies to POST entries only")
		}
		q, err := parseConditionalQuery(e.Type, c)
		if err != nil {
			return e, Errorf(Invalid, IssueValue, e.Expr("request.ifNoneExist"), "%s", err)
		}
		e.IfNoneExist = q
	}
	switch e.Method {
	case "POST", "PUT":
		if e.Resource == nil {
			return e, Errorf(Invalid, IssueRequired, e.Expr("resource"),
				"a %s entry needs a resource", e.Method)
		}
		if rt := e.Resource.Str("resourceType"); rt != e.Type {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("resource.resourceType"),
				"the resource is a %s but request.url %q names %s", rt, rawURL, e.Type)
		}
		if e.Method == "POST" && (e.ID != "" || e.Query != nil) {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("request.url"),
				"a POST entry's url is the resource type alone, not %q", rawURL)
		}
		if e.Method == "PUT" {
			if e.ID == "" && e.Query == nil {
				return e, Errorf(Invalid, IssueInvalid, e.Expr("request.url"),
					"a PUT entry's url is Type/id or a conditional Type?search, not %q", rawURL)
			}
			if id := e.Resource.Str("id"); e.ID != "" && id != "" && id != e.ID {
				return e, Errorf(Invalid, IssueInvalid, e.Expr("resource.id"),
					"the resource id %q does not match the id %q in request.url", id, e.ID)
			}
		}
	case "DELETE":
		if e.ID == "" && e.Query == nil {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("request.url"),
				"a DELETE entry's url is Type/id or a conditional Type?search, not %q", rawURL)
		}
		if e.Resource != nil {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("resource"), "a DELETE entry has no resource")
		}
	case "GET":
		if e.Resource != nil {
			return e, Errorf(Invalid, IssueInvalid, e.Expr("resource"), "a GET entry has no resource")
		}
	}
	if e.Version != 0 && e.Method != "GET" {
		return e, Errorf(Invalid, IssueInvalid, e.Expr("request.url"),
			"only GET can address a version (%q)", rawURL)
	}
	return e, nil
}

// parseRequestURL reads "Type", "Type/id", "Type/id/_history/n" and
// "Type?query" into e.
func parseRequestURL(e *Entry, raw string) *Error {
	expr := e.Expr("request.url")
	if raw == "" {
		return Errorf(Invalid, IssueRequired, expr, "request.url is required")
	}
	// Only the path must be relative: a search's values may be URLs
	// (identifier=https://fhir.nhs.uk/Id/nhs-number|...).
	if path, _, _ := strings.Cut(raw, "?"); strings.Contains(path, "://") || strings.HasPrefix(raw, "/") {
		return Errorf(Invalid, IssueNotSupported, expr,
			"request.url %q must be relative to the base, such as Patient/123", raw)
	}
	path, query, hasQuery := strings.Cut(raw, "?")
	segs := strings.Split(path, "/")
	e.Type = segs[0]
	if !Served(e.Type) {
		return Errorf(Invalid, IssueNotSupported, expr, "request.url %q does not start with a resource type CareBridge serves", raw)
	}
	switch {
	case len(segs) == 1:
	case len(segs) == 2 && validID(segs[1]):
		e.ID = segs[1]
	case len(segs) == 4 && validID(segs[1]) && segs[2] == "_history":
		v, err := strconv.ParseInt(segs[3], 10, 64)
		if err != nil || v < 1 {
			return Errorf(Invalid, IssueValue, expr, "%q is not a version number", segs[3])
		}
		e.ID, e.Version = segs[1], v
	default:
		return Errorf(Invalid, IssueValue, expr, "request.url %q is not Type, Type/id, Type/id/_history/n or Type?search", raw)
	}
	if hasQuery {
		if e.ID != "" {
			return Errorf(Invalid, IssueValue, expr, "request.url %q has both an id and a search", raw)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return Errorf(Invalid, IssueValue, expr, "the search in request.url %q is not a valid query string", raw)
		}
		e.Query = q
	} else if e.ID == "" && e.Method == "GET" {
		e.Query = url.Values{}
	}
	return nil
}

// parseConditionalQuery accepts "identifier=x" and "Patient?identifier=x".
func parseConditionalQuery(typ, raw string) (url.Values, error) {
	if before, after, ok := strings.Cut(raw, "?"); ok {
		if before != typ {
			return nil, fmt.Errorf("%q searches %s, not %s", raw, before, typ)
		}
		raw = after
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid query string", raw)
	}
	if len(q) == 0 {
		return nil, fmt.Errorf("the condition is empty")
	}
	return q, nil
}

// ParseCondition parses an If-None-Exist header or a conditional URL's query
// for resource type typ.
func ParseCondition(typ, raw string) (url.Values, error) { return parseConditionalQuery(typ, raw) }

// checkDistinctTargets refuses a transaction that names one resource twice.
func checkDistinctTargets(entries []Entry) *Error {
	seen := make(map[string]int)
	for _, e := range entries {
		if e.ID == "" || e.Method == "GET" {
			continue
		}
		k := e.Type + "/" + e.ID
		if j, dup := seen[k]; dup {
			return Errorf(Invalid, IssueDuplicate, e.Expr("request.url"),
				"%s is also the target of Bundle.entry[%d]; a transaction may change a resource only once", k, j)
		}
		seen[k] = e.Index
	}
	return nil
}

// ProcessingOrder returns entry positions in the order FHIR processes a
// transaction: DELETE, then POST, then PUT, then GET; Bundle order within each.
func ProcessingOrder(entries []Entry) []int {
	order := make([]int, 0, len(entries))
	for _, m := range [...]string{"DELETE", "POST", "PUT", "GET"} {
		for i := range entries {
			if entries[i].Method == m {
				order = append(order, i)
			}
		}
	}
	return order
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
