package fhir

// ParamType is the type of a search parameter.
type ParamType uint8

// Search parameter types CareBridge supports.
const (
	TokenParam       ParamType = iota + 1 // token and uri
	ReferenceParam                        // reference
	DateParam                             // date
	StringParam                           // string
	IDParam                               // _id: matches the resource id
	LastUpdatedParam                      // _lastUpdated: matches meta.lastUpdated
)

// String returns the FHIR name of the type, as the CapabilityStatement gives it.
func (t ParamType) String() string {
	switch t {
	case TokenParam, IDParam:
		return "token"
	case ReferenceParam:
		return "reference"
	case DateParam, LastUpdatedParam:
		return "date"
	case StringParam:
		return "string"
	}
	return "unknown"
}

// Prefix is a date search comparator.
type Prefix uint8

// Date comparators (http://hl7.org/fhir/search-comparator).
const (
	PrefixEq Prefix = iota
	PrefixNe
	PrefixGt
	PrefixLt
	PrefixGe
	PrefixLe
	PrefixSa
	PrefixEb
)

// Modifier is a search parameter modifier.
type Modifier uint8

// Supported modifiers.
const (
	ModifierNone       Modifier = iota
	ModifierMissing             // :missing=true|false, any type
	ModifierNot                 // :not, token
	ModifierExact               // :exact, string
	ModifierContains            // :contains, string
	ModifierIdentifier          // :identifier, reference (Values carry System and Code)
)

// Query is a parsed, validated search: the resource type, conditions that
// must all hold, the order and the page. The stores translate it to SQL;
// Matches evaluates it in memory against an Index.
type Query struct {
	Type    string
	Clauses []Clause
	Sort    Sort
	Count   int        // page size; 0 asks for the total only
	Total   bool       // compute Bundle.total
	Page    *PageToken // where the previous page ended; nil for the first page
}

// Clause is one search parameter occurrence: it holds when any of its Values
// matches. Several Clauses for one parameter are ANDed (date ranges).
type Clause struct {
	Param    string
	Type     ParamType
	Modifier Modifier
	Values   []ClauseValue
}

// ClauseValue is one comma-separated value of a search parameter.
//
// Token: Code, with System when HasSystem ("system|code"; "|code" is
// HasSystem with System ""; "system|" is HasSystem with Code ""). The
// :identifier reference modifier uses the same fields.
// Reference: TargetType and TargetID for "Patient/123", or URL for an
// absolute reference.
// Date and _lastUpdated: Prefix and the interval [Low, High) in Unix microseconds;
// Text keeps the date as written, without its prefix, for Query.Canonical.
// String: Text, normalised as StringEntry.Value.
// _id: Code.
// :missing: Missing.
type ClauseValue struct {
	System     string
	HasSystem  bool
	Code       string
	TargetType string
	TargetID   string
	URL        string
	Prefix     Prefix
	Low        int64
	High       int64
	Text       string
	Missing    bool
}

// Sort is a search result order. Every order ends with the resource's
// creation order, so pages are stable while data changes.
type Sort uint8

// Supported orders.
const (
	SortCreated               Sort = iota // default: the order resources were first created
	SortLastUpdated                       // _sort=_lastUpdated
	SortLastUpdatedDescending             // _sort=-_lastUpdated
)

// PageToken is where a page ended: the last row's position in the Sort order.
// It travels in next links as an opaque string (EncodePageToken).
type PageToken struct {
	LastUpdated int64 // Unix microseconds; used by the _lastUpdated orders
	Key         int64 // the store's creation-order key of the last resource
}
