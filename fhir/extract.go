package fhir

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// ExtractIndex returns the search index of a resource: every value its
// search parameters (SearchParams) take, as Index entries. Dates and times
// written without a time zone are read in loc (UTC when nil).
//
// Values become entries by FHIR data type:
//
//   - CodeableConcept: a token per coding (system and code); Coding likewise.
//   - Identifier: a token of system and value; NHS numbers
//     (https://fhir.nhs.uk/Id/nhs-number) without spaces or dashes.
//   - code, boolean, uri, string searched as a token: a token without a
//     system; canonical: as written and, when it has "|version", without it.
//   - ContactPoint: a token of its value, without a system.
//   - Reference: one ReferenceEntry with every part it has. "Type/id" (and
//     "Type/id/_history/n", version dropped) fills TargetType and TargetID;
//     an absolute URL or a urn fills URL (a "/_history/n" is dropped there
//     too); Reference.identifier fills IdentifierSystem and IdentifierValue,
//     NHS numbers normalised. A reference with none of these (a "#contained"
//     reference, a display only) gives an entry with only Param, so that
//     :missing sees that the element is there. The patient parameters keep
//     only references to a Patient: a literal Patient/id or URL .../Patient/id,
//     or a reference whose type is Patient, or a logical reference by
//     identifier without a type; care-manager likewise keeps Practitioners.
//   - date, dateTime, instant: the interval their precision covers; Period:
//     from its start's to its end's, an absent end being MaxTime and an
//     absent start MinTime; Timing: each event, and repeat.boundsPeriod.
//   - string: its NormalizeSearchString form; HumanName: that of family,
//     each given, prefix and suffix, and text; Address: that of each line,
//     city, district, state, postalCode, country and text.
//
// _id and _lastUpdated are not in the index: the stores keep the resource
// id and meta.lastUpdated in their own columns.
//
// The resource is expected to be valid; elements of the wrong shape are
// skipped, never an error. Duplicate entries are removed; their order is
// unspecified. The error is an Invalid *Error when resourceType is not
// searchable or res is not an object of that type.
func ExtractIndex(resourceType string, res Value, loc *time.Location) (*Index, error) {
	params := searchRegistry[resourceType]
	if params == nil {
		return nil, Errorf(Invalid, IssueNotSupported, "", "resource type %q has no search parameters", resourceType)
	}
	if res.Kind() != JSONObject {
		return nil, Errorf(Invalid, IssueStructure, resourceType, "the %s resource is not a JSON object", resourceType)
	}
	if rt := res.Str("resourceType"); rt != "" && rt != resourceType {
		return nil, Errorf(Invalid, IssueInvalid, resourceType+".resourceType",
			"the resource is a %s, not a %s", rt, resourceType)
	}
	if loc == nil {
		loc = time.UTC
	}
	return extractParams(params, res, loc), nil
}

// extractParams returns the entries that params find in res.
func extractParams(params []SearchParam, res Value, loc *time.Location) *Index {
	x := ixExtractor{ix: newIxBuffer(), loc: loc}
	for i := range params {
		p := &params[i]
		nt, nr, nd, ns := len(x.ix.Tokens), len(x.ix.References), len(x.ix.Dates), len(x.ix.Strings)
		for j := range p.paths {
			x.walk(p, &p.paths[j], res, 0)
		}
		// Entries of one parameter are contiguous: remove duplicates there.
		x.ix.Tokens = ixDedupe(x.ix.Tokens, nt, ixCompareToken)
		x.ix.References = ixDedupe(x.ix.References, nr, ixCompareReference)
		x.ix.Dates = ixDedupe(x.ix.Dates, nd, ixCompareDate)
		x.ix.Strings = ixDedupe(x.ix.Strings, ns, ixCompareString)
	}
	return x.ix
}

// ixBuffer holds an Index and room for the entries of a typical clinical
// resource, so that extracting one usually allocates once.
type ixBuffer struct {
	ix     Index
	tokens [16]TokenEntry
	refs   [6]ReferenceEntry
	dates  [4]DateEntry
}

func newIxBuffer() *Index {
	b := new(ixBuffer)
	b.ix.Tokens, b.ix.References, b.ix.Dates = b.tokens[:0], b.refs[:0], b.dates[:0]
	return &b.ix
}

// ixExtractor collects the entries of one resource.
type ixExtractor struct {
	ix  *Index
	loc *time.Location
}

// walk follows path p from element v, whose depth in the path is i, through
// objects and arrays, and indexes what it reaches.
func (x *ixExtractor) walk(sp *SearchParam, p *ixPath, v Value, i int) {
	if i == len(p.elems) {
		if v.Kind() == JSONArray {
			for _, it := range v.Items() {
				x.value(sp, p, it)
			}
			return
		}
		x.value(sp, p, v)
		return
	}
	if v.Kind() == JSONArray {
		for _, it := range v.Items() {
			if it.Kind() == JSONObject {
				x.walk(sp, p, it, i)
			}
		}
		return
	}
	if m, ok := v.Get(p.elems[i]); ok {
		x.walk(sp, p, m, i+1)
	}
}

// value indexes one element of path p's data type.
func (x *ixExtractor) value(sp *SearchParam, p *ixPath, v Value) {
	switch p.typ {
	case ixCodeableConcept:
		if c, ok := v.Get("coding"); ok {
			for _, it := range c.Items() {
				x.coding(sp.Name, it)
			}
		}
	case ixCoding:
		x.coding(sp.Name, v)
	case ixIdentifier:
		if v.Kind() != JSONObject {
			return
		}
		sys, val := v.Str("system"), v.Str("value")
		if val != "" {
			x.token(sp.Name, sys, searchIdentifierValue(sys, val))
		}
	case ixCode, ixURI:
		if v.Kind() == JSONString && v.Text() != "" {
			x.token(sp.Name, "", v.Text())
		}
	case ixBoolean:
		if v.Kind() == JSONBool {
			x.token(sp.Name, "", v.Text())
		}
	case ixCanonical:
		if v.Kind() == JSONString && v.Text() != "" {
			x.token(sp.Name, "", v.Text())
			if base, _, ok := strings.Cut(v.Text(), "|"); ok && base != "" {
				x.token(sp.Name, "", base)
			}
		}
	case ixContactPoint:
		if val := v.Str("value"); val != "" {
			x.token(sp.Name, "", val)
		}
	case ixReference:
		x.reference(sp.Name, p.only, v)
	case ixDate:
		if v.Kind() == JSONString {
			x.date(sp.Name, v.Text())
		}
	case ixPeriod:
		x.period(sp.Name, v)
	case ixTiming:
		if ev, ok := v.Get("event"); ok {
			for _, it := range ev.Items() {
				if it.Kind() == JSONString {
					x.date(sp.Name, it.Text())
				}
			}
		}
		if r, ok := v.Get("repeat"); ok {
			if b, ok := r.Get("boundsPeriod"); ok {
				x.period(sp.Name, b)
			}
		}
	case ixString:
		if v.Kind() == JSONString {
			x.str(sp.Name, v.Text())
		}
	case ixHumanName:
		x.strs(sp.Name, v, "family", "given", "prefix", "suffix", "text")
	case ixAddress:
		x.strs(sp.Name, v, "line", "city", "district", "state", "postalCode", "country", "text")
	}
}

func (x *ixExtractor) coding(param string, v Value) {
	if code := v.Str("code"); code != "" {
		x.token(param, v.Str("system"), code)
	}
}

func (x *ixExtractor) token(param, system, code string) {
	x.ix.Tokens = append(x.ix.Tokens, TokenEntry{Param: param, System: system, Code: code})
}

func (x *ixExtractor) str(param, s string) {
	if n := NormalizeSearchString(s); n != "" {
		x.ix.Strings = append(x.ix.Strings, StringEntry{Param: param, Value: n})
	}
}

// strs indexes the string members (or arrays of strings) names of v.
func (x *ixExtractor) strs(param string, v Value, names ...string) {
	for _, name := range names {
		m, ok := v.Get(name)
		if !ok {
			continue
		}
		if m.Kind() == JSONString {
			x.str(param, m.Text())
			continue
		}
		for _, it := range m.Items() {
			if it.Kind() == JSONString {
				x.str(param, it.Text())
			}
		}
	}
}

func (x *ixExtractor) date(param, s string) {
	if lo, hi, ok := ixDateInterval(s, x.loc); ok {
		x.ix.Dates = append(x.ix.Dates, DateEntry{Param: param, Low: lo, High: hi})
	}
}

// period indexes a Period from its start's low to its end's high. A missing
// or unreadable bound is open; a Period with neither bound, or ending before
// it starts, is skipped.
func (x *ixExtractor) period(param string, v Value) {
	if v.Kind() != JSONObject {
		return
	}
	lo, hi := MinTime, MaxTime
	var okStart, okEnd bool
	if s := v.Str("start"); s != "" {
		lo, _, okStart = ixDateInterval(s, x.loc)
		if !okStart {
			lo = MinTime
		}
	}
	if s := v.Str("end"); s != "" {
		_, hi, okEnd = ixDateInterval(s, x.loc)
		if !okEnd {
			hi = MaxTime
		}
	}
	if (!okStart && !okEnd) || lo >= hi {
		return
	}
	x.ix.Dates = append(x.ix.Dates, DateEntry{Param: param, Low: lo, High: hi})
}

// reference indexes one Reference. When only is set, the reference is kept
// only if it is known to point at a resource of that type, or is a logical
// reference by identifier without a type.
func (x *ixExtractor) reference(param, only string, v Value) {
	if v.Kind() != JSONObject {
		return
	}
	e := ReferenceEntry{Param: param}
	target := v.Str("type") // Reference.type: the target's type, when the sender says
	if r := v.Str("reference"); r != "" {
		switch typ, id, url, ok := ixLiteralReference(r); {
		case !ok:
		case url != "":
			e.URL = url
			if t := ixURLTargetType(url); t != "" {
				target = t
			}
		default:
			e.TargetType, e.TargetID, target = typ, id, typ
		}
	}
	if idf, ok := v.Get("identifier"); ok && idf.Kind() == JSONObject {
		if val := idf.Str("value"); val != "" {
			sys := idf.Str("system")
			e.IdentifierSystem, e.IdentifierValue = sys, searchIdentifierValue(sys, val)
		}
	}
	if only != "" && target != only {
		logical := e.TargetID == "" && e.URL == "" && e.IdentifierValue != ""
		if !(logical && target == "") {
			return
		}
	}
	x.ix.References = append(x.ix.References, e)
}

// ixLiteralReference reads Reference.reference: a relative "Type/id" or
// "Type/id/_history/n" (typ and id), or an absolute URL or urn (url, with a
// trailing "/_history/n" removed). ok is false for a "#contained" reference
// and for anything else.
func ixLiteralReference(r string) (typ, id, url string, ok bool) {
	if r[0] == '#' {
		return "", "", "", false
	}
	if ixIsAbsolute(r) {
		return "", "", ixDropHistory(r), true
	}
	typ, rest, found := strings.Cut(r, "/")
	if !found {
		return "", "", "", false
	}
	id, version, hasVersion := strings.Cut(rest, "/")
	if hasVersion {
		v, ok := strings.CutPrefix(version, "_history/")
		if !ok || v == "" || strings.IndexByte(v, '/') >= 0 {
			return "", "", "", false
		}
	}
	if !ixIsTypeName(typ) || !ixIsID(id) {
		return "", "", "", false
	}
	return typ, id, "", true
}

// ixDropHistory removes a trailing "/_history/n" (repeatedly) from an
// absolute URL or urn, keeping it one.
func ixDropHistory(u string) string {
	for {
		i := strings.LastIndex(u, "/_history/")
		if i < 0 {
			return u
		}
		v := u[i+len("/_history/"):]
		if v == "" || strings.IndexByte(v, '/') >= 0 || !ixIsAbsolute(u[:i]) {
			return u
		}
		u = u[:i]
	}
}

// ixIsAbsolute reports whether r is an absolute reference: a urn, or a URL
// starting with a scheme and "://" ("https://...").
func ixIsAbsolute(r string) bool {
	if strings.HasPrefix(r, "urn:") {
		return true
	}
	i := strings.Index(r, "://")
	if i <= 0 || i+3 == len(r) {
		return false
	}
	for j := 0; j < i; j++ {
		c := r[j]
		letter := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// ixURLTargetType returns Type in an absolute URL ending ".../Type/id", or "".
func ixURLTargetType(u string) string {
	i := strings.LastIndexByte(u, '/')
	if i <= 0 {
		return ""
	}
	j := strings.LastIndexByte(u[:i], '/')
	if t := u[j+1 : i]; ixIsTypeName(t) && ixIsID(u[i+1:]) {
		return t
	}
	return ""
}

// ixIsTypeName reports whether s looks like a resource type name: an
// upper-case ASCII letter followed by ASCII letters.
func ixIsTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// ixIsID reports whether s is a FHIR id: 1 to 64 of A-Z, a-z, 0-9,
// "-" and ".".
func ixIsID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ixDedupe removes duplicates from s[from:]. Short runs are compacted in
// place keeping their order; long ones are sorted first.
func ixDedupe[T comparable](s []T, from int, compare func(a, b T) int) []T {
	tail := s[from:]
	if len(tail) < 2 {
		return s
	}
	if len(tail) > 32 {
		slices.SortFunc(tail, compare)
		return s[:from+len(slices.Compact(tail))]
	}
	n := 0
outer:
	for _, e := range tail {
		for _, kept := range tail[:n] {
			if kept == e {
				continue outer
			}
		}
		tail[n] = e
		n++
	}
	clear(tail[n:]) // let the strings of removed duplicates go
	return s[:from+n]
}

func ixCompareToken(a, b TokenEntry) int {
	return cmp.Or(strings.Compare(a.System, b.System), strings.Compare(a.Code, b.Code))
}

func ixCompareReference(a, b ReferenceEntry) int {
	return cmp.Or(
		strings.Compare(a.TargetType, b.TargetType), strings.Compare(a.TargetID, b.TargetID),
		strings.Compare(a.URL, b.URL),
		strings.Compare(a.IdentifierSystem, b.IdentifierSystem), strings.Compare(a.IdentifierValue, b.IdentifierValue))
}

func ixCompareDate(a, b DateEntry) int {
	return cmp.Or(cmp.Compare(a.Low, b.Low), cmp.Compare(a.High, b.High))
}

func ixCompareString(a, b StringEntry) int { return strings.Compare(a.Value, b.Value) }
