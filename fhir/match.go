package fhir

import (
	"strings"
	"time"
)

// Search semantics. This block is the one statement of what a Query means;
// Query.Matches implements it in memory and the SQL stores implement it over
// their index tables (adapter/store/internal/sqlindex). Change both or
// neither.
//
// A Query matches a resource when every Clause holds (AND). A Clause holds
// when any of its Values matches (OR) — except with :not, below. A Clause
// without Values never holds. Values are compared with the resource's index
// entries of the Clause's Param only.
//
// _id (IDParam): the resource id equals a value's Code. With :not (stores
// only; ParseQuery does not produce it): equals none.
//
// _lastUpdated (LastUpdatedParam): the target interval is the instant of the
// last update as one millisecond, [t, t+1ms) with t = meta.lastUpdated cut to
// the millisecond (the precision the stores keep, FormatInstant), compared by
// the date rules below.
//
// Token (TokenParam): an entry matches a value when
//
//	Code equals, unless the value is "system|" (HasSystem, System set, Code "")
//	and, when HasSystem, System equals too ("" for "|code": no system).
//
// So "code" matches any system, "|code" only entries without a system,
// "system|" any code of the system. Comparison is exact (case-sensitive);
// NHS numbers are normalised on both sides (no spaces or dashes). uri
// parameters (_profile, _source) are tokens without a system.
// :not holds when NO entry matches ANY value, which includes resources
// without the parameter at all.
//
// Reference (ReferenceParam): an entry matches
//
//	URL set:    entry.URL == URL (a "/_history/n" was dropped on both sides)
//	otherwise:  entry.TargetID == TargetID (not empty), and entry.TargetType
//	            == TargetType unless TargetType is "" (any type).
//
// :identifier: entry.IdentifierSystem and entry.IdentifierValue compared with
// the value's System and Code by the token rule, on entries that have an
// identifier part. The stores ALSO link the two kinds: a literal value
// matches a logical reference carrying an identifier that the target
// resource currently has (its "identifier" tokens), and an :identifier value
// matches a literal reference to a resource currently having that
// identifier. Matches cannot see other resources and does neither.
// :not on references (stores only) is the negation as for tokens.
//
// Date (DateParam): with the target entry t = [tl, th) and the search value
// s = [sl, sh), half-open intervals of Unix microseconds:
//
//	eq  sl <= tl && th <= sh       (the target lies within the search value)
//	ne  !(eq)
//	gt  th > sh                    (the target goes on after the search value)
//	lt  tl < sl                    (the target starts before the search value)
//	ge  gt || eq
//	le  lt || eq
//	sa  tl >= sh                   (starts after the search value ends)
//	eb  th <= sl                   (ends before the search value starts)
//
// Open ends are MinTime and MaxTime, so an open Period is later (gt) than any
// search value and never eq. A resource with several entries matches when
// any entry does; two clauses (date=ge2025-01-01&date=lt2025-04-01) may be
// satisfied by different entries.
//
// String (StringParam): entry values and search texts are both normalised
// (NormalizeSearchString: lower case, no accents, collapsed white space).
//
//	default    entry.Value starts with Text
//	:exact     entry.Value == Text
//	:contains  Text occurs in entry.Value
//
// Limitation: the index keeps only normalised values, so :exact is exact up
// to case, accents and white space ("ZOË" :exact matches "Zoe"), not the
// FHIR definition's character-for-character equality. Comparison is byte by
// byte (BINARY in SQLite, COLLATE "C" in PostgreSQL).
//
// :missing (any type but _id and _lastUpdated): Missing true holds when the
// resource has no entry for Param, false when it has at least one. For _id
// and _lastUpdated, which every resource has, true never holds and false
// always does. An entry with no part (a Reference with only a display, a
// "#contained" reference) counts as present.
//
// The stores cut very long values (over 1024 bytes) before comparing;
// Matches compares them whole.

// Matches reports whether a resource with the given id, meta.lastUpdated and
// search index satisfies every clause of q, by the rules above. A
// conditional create inside a transaction uses it to find earlier entries of
// the same Bundle, which the stores cannot see yet. ix may be nil (no
// entries). A clause whose type and modifier have no meaning (which ParseQuery
// never produces, and the stores refuse) does not match.
func (q *Query) Matches(id string, lastUpdated time.Time, ix *Index) bool {
	if ix == nil {
		ix = &Index{}
	}
	lu := lastUpdated.UnixMilli() * 1000
	for i := range q.Clauses {
		if !q.Clauses[i].matches(id, lu, ix) {
			return false
		}
	}
	return true
}

// matches reports whether the clause holds; lu is the last update in Unix
// microseconds, cut to the millisecond.
func (c *Clause) matches(id string, lu int64, ix *Index) bool {
	if len(c.Values) == 0 {
		return false
	}
	if c.Modifier == ModifierMissing {
		present := c.present(ix)
		for _, v := range c.Values {
			if v.Missing != present {
				return true
			}
		}
		return false
	}
	switch c.Type {
	case IDParam:
		if c.Modifier != ModifierNone && c.Modifier != ModifierNot {
			return false
		}
		found := false
		for _, v := range c.Values {
			found = found || v.Code == id
		}
		return found != (c.Modifier == ModifierNot)
	case LastUpdatedParam:
		if c.Modifier != ModifierNone {
			return false
		}
		for _, v := range c.Values {
			if searchDateMatches(v, lu, lu+1000) {
				return true
			}
		}
		return false
	case TokenParam:
		if c.Modifier != ModifierNone && c.Modifier != ModifierNot {
			return false
		}
		found := false
		for _, e := range ix.Tokens {
			if e.Param != c.Param {
				continue
			}
			for _, v := range c.Values {
				found = found || searchTokenMatches(v, e.System, e.Code)
			}
		}
		return found != (c.Modifier == ModifierNot)
	case ReferenceParam:
		if c.Modifier != ModifierNone && c.Modifier != ModifierNot && c.Modifier != ModifierIdentifier {
			return false
		}
		found := false
		for i := range ix.References {
			e := &ix.References[i]
			if e.Param != c.Param {
				continue
			}
			for _, v := range c.Values {
				if c.Modifier == ModifierIdentifier {
					found = found || (e.IdentifierSystem != "" || e.IdentifierValue != "") &&
						searchTokenMatches(v, e.IdentifierSystem, e.IdentifierValue)
				} else {
					found = found || searchReferenceMatches(v, e)
				}
			}
		}
		return found != (c.Modifier == ModifierNot)
	case DateParam:
		if c.Modifier != ModifierNone {
			return false
		}
		for _, e := range ix.Dates {
			if e.Param != c.Param {
				continue
			}
			for _, v := range c.Values {
				if searchDateMatches(v, e.Low, e.High) {
					return true
				}
			}
		}
		return false
	case StringParam:
		if c.Modifier != ModifierNone && c.Modifier != ModifierExact && c.Modifier != ModifierContains {
			return false
		}
		for _, e := range ix.Strings {
			if e.Param != c.Param {
				continue
			}
			for _, v := range c.Values {
				if searchStringMatches(c.Modifier, e.Value, v.Text) {
					return true
				}
			}
		}
		return false
	}
	return false
}

// present reports whether the index has an entry for the clause's parameter.
func (c *Clause) present(ix *Index) bool {
	switch c.Type {
	case IDParam, LastUpdatedParam:
		return true
	case TokenParam:
		for _, e := range ix.Tokens {
			if e.Param == c.Param {
				return true
			}
		}
	case ReferenceParam:
		for _, e := range ix.References {
			if e.Param == c.Param {
				return true
			}
		}
	case DateParam:
		for _, e := range ix.Dates {
			if e.Param == c.Param {
				return true
			}
		}
	case StringParam:
		for _, e := range ix.Strings {
			if e.Param == c.Param {
				return true
			}
		}
	}
	return false
}

// searchTokenMatches applies the token rule to an entry's system and code.
func searchTokenMatches(v ClauseValue, system, code string) bool {
	if (v.Code != "" || !v.HasSystem || v.System == "") && code != v.Code {
		return false
	}
	return !v.HasSystem || system == v.System
}

// searchReferenceMatches applies the literal reference rule.
func searchReferenceMatches(v ClauseValue, e *ReferenceEntry) bool {
	if v.URL != "" {
		return e.URL == v.URL
	}
	return e.TargetID != "" && e.TargetID == v.TargetID && (v.TargetType == "" || e.TargetType == v.TargetType)
}

// searchDateMatches compares the target interval [tl, th) with the value's
// interval under its prefix.
func searchDateMatches(v ClauseValue, tl, th int64) bool {
	sl, sh := v.Low, v.High
	eq := sl <= tl && th <= sh && tl < sh
	switch v.Prefix {
	case PrefixEq:
		return eq
	case PrefixNe:
		return !eq
	case PrefixGt:
		return th > sh
	case PrefixLt:
		return tl < sl
	case PrefixGe:
		return th > sh || eq
	case PrefixLe:
		return tl < sl || eq
	case PrefixSa:
		return tl >= sh
	case PrefixEb:
		return th <= sl
	}
	return false
}

// searchStringMatches applies the string rule of modifier m.
func searchStringMatches(m Modifier, value, text string) bool {
	switch m {
	case ModifierExact:
		return value == text
	case ModifierContains:
		return strings.Contains(value, text)
	}
	return strings.HasPrefix(value, text)
}
