package fhir

// Index is the search index of one resource version: every value its search
// parameters take. The Gateway computes it from the resource (Extract); the
// stores persist it next to the version and search it. Only the current
// version of a resource is indexed.
type Index struct {
	Tokens     []TokenEntry
	References []ReferenceEntry
	Dates      []DateEntry
	Strings    []StringEntry
}

// TokenEntry is a token value: a code with its system, an identifier, a
// boolean, a uri or a status. NHS numbers are stored without spaces or dashes.
type TokenEntry struct {
	Param  string
	System string // "" when the element has no system
	Code   string
}

// ReferenceEntry is one Reference value. A literal local reference fills
// TargetType and TargetID; any other literal reference (absolute URL, urn)
// fills URL; a logical reference fills IdentifierSystem and IdentifierValue.
// A Reference may carry both a literal and a logical part.
type ReferenceEntry struct {
	Param            string
	TargetType       string
	TargetID         string
	URL              string
	IdentifierSystem string
	IdentifierValue  string
}

// DateEntry is a date, dateTime, instant or Period as the half-open interval
// [Low, High) of Unix microseconds that its precision covers: "2025-03" is
// the whole of March 2025 in the server's time zone.
type DateEntry struct {
	Param string
	Low   int64
	High  int64
}

// StringEntry is a string value normalised for matching: lower-case, with
// accents removed and whitespace collapsed.
type StringEntry struct {
	Param string
	Value string
}

// Open-ended date bounds.
const (
	MinTime int64 = -1 << 62
	MaxTime int64 = 1 << 62
)
