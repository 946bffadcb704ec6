package sqlindex

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/carebridge/carebridge/fhir"
)

// Kinds of search_reference rows.
const (
	KindNone       = ""  // an entry with no literal, URL or logical part
	KindLiteral    = "r" // system: target type, value: target id
	KindURL        = "u" // value: the URL
	KindIdentifier = "i" // system and value: the identifier
)

// MaxValueLen is the longest value, in bytes, that an index row keeps: longer
// codes, systems, references and strings are cut (at a character boundary)
// to this length, and so are search values, so that equality and prefix
// matching compare the first MaxValueLen bytes. It keeps every index entry
// within PostgreSQL's B-tree entry limit.
const MaxValueLen = 1024

// Clip cuts s to at most MaxValueLen bytes, at a character boundary.
func Clip(s string) string {
	if len(s) <= MaxValueLen {
		return s
	}
	n := MaxValueLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TokenRow is a search_token row without its key and type.
type TokenRow struct{ Param, System, Code string }

// ReferenceRow is a search_reference row without its key and type.
type ReferenceRow struct{ Param, Kind, System, Value string }

// DateRow is a search_date row without its key and type.
type DateRow struct {
	Param     string
	Low, High int64
}

// Entry returns the part of a fhir.ReferenceEntry that r stores, for
// reading an index back; false for a KindNone row.
func (r ReferenceRow) Entry() (fhir.ReferenceEntry, bool) {
	e := fhir.ReferenceEntry{Param: r.Param}
	switch r.Kind {
	case KindLiteral:
		e.TargetType, e.TargetID = r.System, r.Value
	case KindURL:
		e.URL = r.Value
	case KindIdentifier:
		e.IdentifierSystem, e.IdentifierValue = r.System, r.Value
	default:
		return e, false
	}
	return e, true
}

// StringRow is a search_string row without its key and type.
type StringRow struct{ Param, Value string }

// Rows are the index rows of one resource version.
type Rows struct {
	Tokens     []TokenRow
	References []ReferenceRow
	Dates      []DateRow
	Strings    []StringRow
}

// Len returns the number of rows.
func (r *Rows) Len() int {
	return len(r.Tokens) + len(r.References) + len(r.Dates) + len(r.Strings)
}

// Flatten returns the rows that store ix: values clipped to MaxValueLen,
// references split into their parts, and duplicates removed, so that every
// row is unique within its table for one resource.
func Flatten(ix *fhir.Index) Rows {
	var r Rows
	if ix == nil {
		return r
	}
	r.Tokens = make([]TokenRow, 0, len(ix.Tokens))
	for _, t := range ix.Tokens {
		r.Tokens = append(r.Tokens, TokenRow{t.Param, Clip(t.System), Clip(t.Code)})
	}
	r.References = make([]ReferenceRow, 0, len(ix.References))
	for _, e := range ix.References {
		n := len(r.References)
		if e.TargetID != "" {
			r.References = append(r.References, ReferenceRow{e.Param, KindLiteral, Clip(e.TargetType), Clip(e.TargetID)})
		}
		if e.URL != "" {
			r.References = append(r.References, ReferenceRow{e.Param, KindURL, "", Clip(e.URL)})
		}
		if e.IdentifierValue != "" || e.IdentifierSystem != "" {
			r.References = append(r.References, ReferenceRow{e.Param, KindIdentifier, Clip(e.IdentifierSystem), Clip(e.IdentifierValue)})
		}
		if len(r.References) == n {
			r.References = append(r.References, ReferenceRow{Param: e.Param, Kind: KindNone})
		}
	}
	r.Dates = make([]DateRow, 0, len(ix.Dates))
	for _, d := range ix.Dates {
		r.Dates = append(r.Dates, DateRow(d))
	}
	r.Strings = make([]StringRow, 0, len(ix.Strings))
	for _, s := range ix.Strings {
		r.Strings = append(r.Strings, StringRow{s.Param, Clip(s.Value)})
	}
	r.Tokens = dedupe(r.Tokens, func(a, b TokenRow) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Code, b.Code), cmp.Compare(a.System, b.System))
	})
	r.References = dedupe(r.References, func(a, b ReferenceRow) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value), cmp.Compare(a.System, b.System))
	})
	r.Dates = dedupe(r.Dates, func(a, b DateRow) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Low, b.Low), cmp.Compare(a.High, b.High))
	})
	r.Strings = dedupe(r.Strings, func(a, b StringRow) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Value, b.Value))
	})
	return r
}

// dedupe sorts s and removes repeated rows. Sorting also makes the rows of
// one Put arrive in index order, which is cheaper to insert.
func dedupe[T comparable](s []T, compare func(a, b T) int) []T {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, compare)
	return slices.Compact(s)
}
