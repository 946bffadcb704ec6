package fhir

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// QueryOptions tune ParseQuery.
type QueryOptions struct {
	// Location is the time zone of dates and times written without one
	// (Europe/London for English care records); UTC when nil.
	Location *time.Location
	// Lenient skips unknown and unsupported parameters, returning a warning
	// Issue for each, as "Prefer: handling=lenient" asks; otherwise they
	// make the search fail. Malformed values always fail.
	Lenient bool
	// DefaultCount is the page size without _count (20 when not positive);
	// MaxCount caps _count (1000 when not positive, and never below
	// DefaultCount).
	DefaultCount, MaxCount int
}

// Page sizes used when QueryOptions leaves them zero.
const (
	defaultSearchCount = 20
	maxSearchCount     = 1000
)

// unsupportedSearchParams are the FHIR parameters for all resources that
// CareBridge knows of and does not implement.
var unsupportedSearchParams = map[string]bool{
	"_include": true, "_revinclude": true, "_elements": true, "_contained": true,
	"_containedType": true, "_has": true, "_filter": true, "_query": true, "_text": true,
	"_content": true, "_list": true, "_type": true,
}

// ParseQuery parses the parameters of a search of resourceType into a Query.
//
// Search parameters (SearchParams) take, by type:
//
//   - token: "code" (any system), "system|code", "|code" (no system),
//     "system|" (any code of the system); modifiers :not and :missing. NHS
//     numbers given with their system lose spaces and dashes; boolean
//     parameters (active) take true or false. uri parameters (_profile,
//     _source) take the whole value, "|" included; modifier :missing.
//   - reference: "Type/id" (a version "/_history/n" is dropped), "id" when
//     the parameter has one target type, an absolute URL or urn; modifiers
//     :identifier ("system|value", as a token), :missing and a target type
//     (subject:Patient=123). Chained parameters (subject.name) are refused.
//   - date and _lastUpdated: a prefix (eq ne gt lt ge le sa eb) and a date,
//     YYYY to fractions of a second, with or without a zone (a space before
//     the offset is read as "+", which a query string turns into a space);
//     modifier :missing on dates.
//   - string: starts with by default; :exact, :contains and :missing.
//     Values are normalised as NormalizeSearchString does.
//   - _id: ids.
//
// A comma separates values of which any may match ("\," is a comma inside
// a value, as are "\|", "\$" and "\\"); a repeated parameter is a further
// clause that must also match. An empty parameter is ignored with a warning.
//
// Result parameters: _count (the page size, default opts.DefaultCount,
// capped at opts.MaxCount; 0 asks for the total only), _sort (_lastUpdated
// or -_lastUpdated), _total (none, or estimate and accurate which both ask
// for the total), _summary (count, or false), _page_token (from a next
// link). _format (json, application/json, application/fhir+json) and
// _pretty are checked and otherwise left to the caller.
//
// The returned Issues are warnings and information for the sender. The
// error is an *Error of kind Invalid listing every fault, each with the
// parameter as written for its expression, or of kind NotAcceptable for a
// _format other than JSON.
func ParseQuery(resourceType string, params url.Values, opts QueryOptions) (*Query, []Issue, error) {
	if searchRegistry[resourceType] == nil {
		return nil, nil, Errorf(Invalid, IssueNotSupported, "", "resource type %q is not searchable", resourceType)
	}
	if err := checkSearchFormat(params["_format"]); err != nil {
		return nil, nil, err
	}
	p := queryParser{typ: resourceType, opts: opts, q: &Query{Type: resourceType}}
	if p.opts.Location == nil {
		p.opts.Location = time.UTC
	}
	if p.opts.DefaultCount <= 0 {
		p.opts.DefaultCount = defaultSearchCount
	}
	if p.opts.MaxCount <= 0 {
		p.opts.MaxCount = maxSearchCount
	}
	p.opts.MaxCount = max(p.opts.MaxCount, p.opts.DefaultCount)
	p.q.Count = p.opts.DefaultCount
	p.q.Total = true // Bundle.total unless the client says _total=none

	for _, key := range slices.Sorted(maps.Keys(params)) {
		p.param(key, params[key])
	}
	if len(p.errs) > 0 {
		return nil, nil, &Error{Kind: Invalid, Issues: p.errs}
	}
	if p.summaryCount {
		p.q.Count = 0
	}
	if p.q.Count == 0 {
		p.q.Total = true
	}
	// One order for equal queries, whatever order the parameters came in:
	// Canonical and the stores' plans see the same Query.
	slices.SortStableFunc(p.q.Clauses, func(a, b Clause) int {
		return cmp.Or(strings.Compare(a.Param, b.Param), cmp.Compare(a.Modifier, b.Modifier))
	})
	return p.q, p.warnings, nil
}

// checkSearchFormat accepts the JSON media types in _format and refuses others
// with NotAcceptable.
func checkSearchFormat(vals []string) error {
	for _, v := range vals {
		f := strings.ToLower(strings.TrimSpace(v))
		f, _, _ = strings.Cut(f, ";")
		f = strings.ReplaceAll(strings.TrimSpace(f), " ", "+") // "+" arrives as a space
		switch f {
		case "", "json", "application/json", "application/fhir+json":
			continue
		}
		return Errorf(NotAcceptable, IssueNotSupported, "_format",
			"_format %q is not supported: CareBridge returns JSON (json or application/fhir+json)", v)
	}
	return nil
}

// queryParser collects a Query, warnings and errors while it reads the
// parameters.
type queryParser struct {
	typ          string
	opts         QueryOptions
	q            *Query
	warnings     []Issue
	errs         []Issue
	summaryCount bool
}

func (p *queryParser) fail(code IssueType, key, format string, args ...any) {
	p.errs = append(p.errs, Issue{Severity: SeverityError, Code: code, Expression: key, Diagnostics: fmt.Sprintf(format, args...)})
}

func (p *queryParser) warn(code IssueType, key, format string, args ...any) {
	p.warnings = append(p.warnings, Issue{Severity: SeverityWarning, Code: code, Expression: key, Diagnostics: fmt.Sprintf(format, args...)})
}

// unsupported refuses a parameter, or under lenient handling skips it with
// a warning.
func (p *queryParser) unsupported(key, format string, args ...any) {
	if p.opts.Lenient {
		p.warn(IssueNotSupported, key, format+"; it was ignored", args...)
		return
	}
	p.fail(IssueNotSupported, key, format, args...)
}

// param reads one parameter with all its occurrences.
func (p *queryParser) param(key string, vals []string) {
	name, mod, hasMod := strings.Cut(key, ":")
	switch name {
	case "_count", "_sort", "_total", "_summary", "_page_token", "_format", "_pretty":
		if hasMod {
			p.unsupported(key, "modifier ':%s' is not supported for '%s'", mod, name)
			return
		}
		if len(vals) > 1 {
			p.fail(IssueInvalid, key, "'%s' may be given only once", name)
			return
		}
		if len(vals) == 1 && vals[0] == "" {
			p.warn(IssueValue, key, "'%s' has an empty value; it was ignored", key)
		} else if len(vals) == 1 {
			p.result(name, vals[0])
		}
		return
	}
	if unsupportedSearchParams[name] {
		p.unsupported(key, "parameter '%s' is not supported", name)
		return
	}
	if strings.Contains(name, ".") || strings.Contains(mod, ".") {
		p.unsupported(key, "chained search '%s' is not supported: search for the target first, then by its id", key)
		return
	}
	sp := lookupParam(p.typ, name)
	if sp == nil {
		if s := closestSearchParam(p.typ, name); s != "" {
			p.unsupported(key, "unknown search parameter '%s' for %s (did you mean '%s'?)", name, p.typ, s)
		} else {
			p.unsupported(key, "unknown search parameter '%s' for %s", name, p.typ)
		}
		return
	}
	m, targetType, ok := p.modifier(sp, key, mod, hasMod)
	if !ok {
		return
	}
	for _, raw := range vals {
		if raw == "" {
			p.warn(IssueValue, key, "'%s' has an empty value; it was ignored", key)
			continue
		}
		if c, ok := p.clause(sp, key, m, targetType, raw); ok {
			p.q.Clauses = append(p.q.Clauses, c)
		}
	}
}

// modifier reads the modifier of parameter sp. targetType is set for a
// reference type modifier (subject:Patient); ok is false when the modifier
// is not supported (and the fault recorded).
func (p *queryParser) modifier(sp *SearchParam, key, mod string, hasMod bool) (m Modifier, targetType string, ok bool) {
	if !hasMod {
		return ModifierNone, "", true
	}
	switch {
	case mod == "missing" && sp.Type != IDParam && sp.Type != LastUpdatedParam:
		return ModifierMissing, "", true
	case mod == "not" && sp.Type == TokenParam && !sp.uri:
		return ModifierNot, "", true
	case mod == "exact" && sp.Type == StringParam:
		return ModifierExact, "", true
	case mod == "contains" && sp.Type == StringParam:
		return ModifierContains, "", true
	case mod == "identifier" && sp.Type == ReferenceParam:
		return ModifierIdentifier, "", true
	case sp.Type == ReferenceParam && ixIsTypeName(mod):
		if len(sp.Targets) > 0 && !slices.Contains(sp.Targets, mod) {
			p.unsupported(key, "modifier ':%s' is not supported for reference parameter '%s': it refers to %s",
				mod, sp.Name, searchJoinOr(sp.Targets))
			return 0, "", false
		}
		return ModifierNone, mod, true
	}
	p.unsupported(key, "modifier ':%s' is not supported for %s parameter '%s'", mod, sp.TypeCode(), sp.Name)
	return 0, "", false
}

// clause reads one occurrence of a parameter: comma-separated values of
// which any may match.
func (p *queryParser) clause(sp *SearchParam, key string, m Modifier, targetType, raw string) (Clause, bool) {
	c := Clause{Param: sp.Name, Type: sp.Type, Modifier: m}
	items := searchSplit(raw, ',')
	if m == ModifierMissing {
		if len(items) != 1 || (raw != "true" && raw != "false") {
			p.fail(IssueValue, key, "':missing' takes true or false, not '%s'", raw)
			return c, false
		}
		c.Values = []ClauseValue{{Missing: raw == "true"}}
		return c, true
	}
	ok := true
	for _, item := range items {
		if item == "" {
			p.fail(IssueInvalid, key, "'%s' has an empty value between commas", raw)
			return c, false
		}
		var v ClauseValue
		var good bool
		switch sp.Type {
		case IDParam:
			v, good = p.idValue(sp, key, item)
		case TokenParam:
			v, good = p.tokenValue(sp, key, item)
		case ReferenceParam:
			v, good = p.referenceValue(sp, key, m, targetType, item)
		case DateParam, LastUpdatedParam:
			v, good = p.dateValue(sp, key, item)
		case StringParam:
			v, good = p.stringValue(sp, key, item)
		}
		ok = ok && good
		c.Values = append(c.Values, v)
	}
	return c, ok
}

func (p *queryParser) idValue(sp *SearchParam, key, item string) (ClauseValue, bool) {
	id := searchUnescape(item)
	if !ixIsID(id) {
		p.fail(IssueValue, key, "'%s' is not a valid id for '%s'", id, sp.Name)
		return ClauseValue{}, false
	}
	return ClauseValue{Code: id}, true
}

func (p *queryParser) tokenValue(sp *SearchParam, key, item string) (ClauseValue, bool) {
	if sp.uri {
		return ClauseValue{Code: searchUnescape(item)}, true
	}
	v, ok := p.systemCode(sp, key, item)
	if !ok {
		return v, false
	}
	if sp.isBoolean() && (v.HasSystem || (v.Code != "true" && v.Code != "false")) {
		p.fail(IssueValue, key, "'%s' is not a valid value for '%s': use true or false", item, sp.Name)
		return v, false
	}
	return v, true
}

// systemCode reads "code", "system|code", "|code" or "system|".
func (p *queryParser) systemCode(sp *SearchParam, key, item string) (ClauseValue, bool) {
	i := searchIndexUnescaped(item, '|')
	if i < 0 {
		return ClauseValue{Code: searchUnescape(item)}, true
	}
	if searchIndexUnescaped(item[i+1:], '|') >= 0 {
		p.fail(IssueInvalid, key, "'%s' is not a valid token for '%s': it has more than one '|' (write a '|' inside a value as '\\|')", item, sp.Name)
		return ClauseValue{}, false
	}
	v := ClauseValue{System: searchUnescape(item[:i]), HasSystem: true, Code: searchUnescape(item[i+1:])}
	if v.System == "" && v.Code == "" {
		p.fail(IssueInvalid, key, "'|' is not a valid token for '%s': give a system, a code or both", sp.Name)
		return v, false
	}
	v.Code = searchIdentifierValue(v.System, v.Code)
	return v, true
}

func (p *queryParser) referenceValue(sp *SearchParam, key string, m Modifier, targetType, item string) (ClauseValue, bool) {
	if m == ModifierIdentifier {
		return p.systemCode(sp, key, item)
	}
	if searchIndexUnescaped(item, '|') >= 0 && targetType == "" {
		// No reference has a bare '|': this is an identifier, which a
		// plain reference search would silently never find.
		p.fail(IssueValue, key, "'%s' is an identifier, not a reference: search it with %s:identifier=%s", item, sp.Name, item)
		return ClauseValue{}, false
	}
	r := searchUnescape(item)
	switch {
	case targetType != "":
		if t, id, ok := strings.Cut(r, "/"); ok && t == targetType {
			r = id
		}
		if !ixIsID(r) {
			p.fail(IssueValue, key, "'%s' is not a valid %s id for '%s'", r, targetType, sp.Name)
			return ClauseValue{}, false
		}
		return ClauseValue{TargetType: targetType, TargetID: r}, true
	case ixIsAbsolute(r):
		u := ixDropHistory(r)
		if t := ixURLTargetType(u); t != "" && len(sp.Targets) > 0 && !slices.Contains(sp.Targets, t) {
			p.fail(IssueValue, key, "'%s' is not a valid reference for '%s': it refers to %s", r, sp.Name, searchJoinOr(sp.Targets))
			return ClauseValue{}, false
		}
		return ClauseValue{URL: u}, true
	case strings.Contains(r, "/"):
		typ, id, _, ok := ixLiteralReference(r)
		if !ok || id == "" {
			p.fail(IssueValue, key, "'%s' is not a valid reference for '%s': use Type/id, an id or an absolute URL", r, sp.Name)
			return ClauseValue{}, false
		}
		if len(sp.Targets) > 0 && !slices.Contains(sp.Targets, typ) {
			p.fail(IssueValue, key, "'%s' is not a valid reference for '%s': it refers to %s", r, sp.Name, searchJoinOr(sp.Targets))
			return ClauseValue{}, false
		}
		return ClauseValue{TargetType: typ, TargetID: id}, true
	}
	if !ixIsID(r) {
		p.fail(IssueValue, key, "'%s' is not a valid reference for '%s': use Type/id, an id or an absolute URL", r, sp.Name)
		return ClauseValue{}, false
	}
	if len(sp.Targets) != 1 {
		p.fail(IssueValue, key, "'%s' needs a resource type for '%s', which refers to %s: write Type/%s", r, sp.Name, searchTargetsText(sp.Targets), r)
		return ClauseValue{}, false
	}
	return ClauseValue{TargetType: sp.Targets[0], TargetID: r}, true
}

// searchPrefixes are the date comparators, by their codes.
var searchPrefixes = map[string]Prefix{
	"eq": PrefixEq, "ne": PrefixNe, "gt": PrefixGt, "lt": PrefixLt,
	"ge": PrefixGe, "le": PrefixLe, "sa": PrefixSa, "eb": PrefixEb,
}

func (p *queryParser) dateValue(sp *SearchParam, key, item string) (ClauseValue, bool) {
	v := ClauseValue{Prefix: PrefixEq}
	text := item
	if len(text) >= 2 && isSearchPrefixLetter(text[0]) {
		code := text[:2]
		pre, ok := searchPrefixes[code]
		if !ok {
			if code == "ap" {
				p.fail(IssueNotSupported, key, "prefix 'ap' is not supported for '%s': use ge and le", sp.Name)
			} else {
				p.fail(IssueValue, key, "'%s' is not a valid date for '%s': '%s' is not a prefix (eq ne gt lt ge le sa eb)", item, sp.Name, code)
			}
			return v, false
		}
		v.Prefix, text = pre, text[2:]
	}
	text = strings.ReplaceAll(text, " ", "+") // "+01:00" arrives as " 01:00"
	d, ok := parseIxDateTime(text)
	if !ok {
		p.fail(IssueValue, key, "'%s' is not a valid date for '%s'", item, sp.Name)
		return v, false
	}
	v.Low, v.High = d.interval(p.opts.Location)
	v.Text = text
	return v, true
}

func (p *queryParser) stringValue(sp *SearchParam, key, item string) (ClauseValue, bool) {
	t := NormalizeSearchString(searchUnescape(item))
	if t == "" {
		p.fail(IssueValue, key, "'%s' has no text to search for in '%s'", item, sp.Name)
		return ClauseValue{}, false
	}
	return ClauseValue{Text: t}, true
}

// result reads a result parameter.
func (p *queryParser) result(name, v string) {
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(IssueValue, name, "'_count' must be a whole number, 0 or more, not '%s'", v)
			return
		}
		if n > p.opts.MaxCount {
			p.warnings = append(p.warnings, Issue{Severity: SeverityInformation, Code: IssueInformational, Expression: name,
				Diagnostics: fmt.Sprintf("'_count' %d is more than the %d this server returns in a page; pages have %d", n, p.opts.MaxCount, p.opts.MaxCount)})
			n = p.opts.MaxCount
		}
		p.q.Count = n
	case "_sort":
		switch v {
		case "_lastUpdated":
			p.q.Sort = SortLastUpdated
		case "-_lastUpdated":
			p.q.Sort = SortLastUpdatedDescending
		default:
			p.unsupported(name, "sorting by '%s' is not supported: use _lastUpdated or -_lastUpdated", v)
		}
	case "_total":
		switch v {
		case "none":
			p.q.Total = false
		case "estimate", "accurate":
			p.q.Total = true
		default:
			p.fail(IssueValue, name, "'_total' must be none, estimate or accurate, not '%s'", v)
		}
	case "_summary":
		switch v {
		case "count":
			p.summaryCount = true
		case "false":
		case "true", "text", "data":
			p.unsupported(name, "'_summary=%s' is not supported: only _summary=count and _summary=false are", v)
		default:
			p.fail(IssueValue, name, "'_summary' must be true, text, data, count or false, not '%s'", v)
		}
	case "_page_token":
		t, err := DecodePageToken(v)
		if err != nil {
			p.fail(IssueValue, name, "'_page_token' is not one this server issued")
			return
		}
		p.q.Page = &t
	case "_pretty":
		if v != "true" && v != "false" {
			p.fail(IssueValue, name, "'_pretty' must be true or false, not '%s'", v)
		}
	case "_format": // checked by checkSearchFormat
	}
}

// isBoolean reports whether the parameter indexes boolean elements only.
func (sp *SearchParam) isBoolean() bool {
	for _, pa := range sp.paths {
		if pa.typ != ixBoolean {
			return false
		}
	}
	return len(sp.paths) > 0
}

func isSearchPrefixLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// searchJoinOr lists names as "A, B or C".
func searchJoinOr(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func searchTargetsText(targets []string) string {
	if len(targets) == 0 {
		return "any resource type"
	}
	return searchJoinOr(targets)
}

// closestSearchParam returns the parameter of typ whose name is nearest to name,
// when it is close enough to be a likely typo; "" otherwise.
func closestSearchParam(typ, name string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, sp := range searchRegistry[typ] {
		d := searchEditDistance(lower, strings.ToLower(sp.Name))
		if d < bestDist && d < len(name) {
			best, bestDist = sp.Name, d
		}
	}
	return best
}

// searchEditDistance returns the Levenshtein distance between a and b, in bytes.
func searchEditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// searchIndexUnescaped returns the index of the first sep in s that is not
// escaped by a backslash, or -1.
func searchIndexUnescaped(s string, sep byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			return i
		}
	}
	return -1
}

// searchSplit splits s at each sep not escaped by a backslash, keeping the
// escapes.
func searchSplit(s string, sep byte) []string {
	var out []string
	for {
		i := searchIndexUnescaped(s, sep)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// searchUnescape removes the backslashes of "\,", "\|", "\$" and "\\".
func searchUnescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\,|$`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// searchEscape escapes "\", ",", "|" and "$" with a backslash.
func searchEscape(s string) string {
	if !strings.ContainsAny(s, `\,|$`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\,|$`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Canonical returns the query's parameters in one normal form, for self and
// next links and as a key for equal searches: every clause and the result
// parameters (_sort when not the default, _count always, _total when the
// total is asked for with results), never _page_token. Parsed again with the
// same Location, it gives the same Query (Page aside).
//
// A Query built by hand, not by ParseQuery, may hold date values without
// their Text; those are written as the instant their Low starts, to the
// microsecond.
func (q *Query) Canonical() url.Values {
	out := url.Values{}
	for i := range q.Clauses {
		c := &q.Clauses[i]
		key := c.Param + searchModifierSuffix(c.Modifier)
		parts := make([]string, len(c.Values))
		for j, v := range c.Values {
			parts[j] = canonicalSearchValue(q.Type, c, v)
		}
		out[key] = append(out[key], strings.Join(parts, ","))
	}
	switch q.Sort {
	case SortLastUpdated:
		out.Set("_sort", "_lastUpdated")
	case SortLastUpdatedDescending:
		out.Set("_sort", "-_lastUpdated")
	}
	out.Set("_count", strconv.Itoa(q.Count))
	if !q.Total {
		out.Set("_total", "none")
	}
	return out
}

func searchModifierSuffix(m Modifier) string {
	switch m {
	case ModifierMissing:
		return ":missing"
	case ModifierNot:
		return ":not"
	case ModifierExact:
		return ":exact"
	case ModifierContains:
		return ":contains"
	case ModifierIdentifier:
		return ":identifier"
	}
	return ""
}

// searchPrefixCodes are the codes of the date comparators, by value.
var searchPrefixCodes = [...]string{PrefixEq: "eq", PrefixNe: "ne", PrefixGt: "gt", PrefixLt: "lt",
	PrefixGe: "ge", PrefixLe: "le", PrefixSa: "sa", PrefixEb: "eb"}

func canonicalSearchValue(typ string, c *Clause, v ClauseValue) string {
	if c.Modifier == ModifierMissing {
		return strconv.FormatBool(v.Missing)
	}
	switch c.Type {
	case IDParam:
		return searchEscape(v.Code)
	case TokenParam:
		if sp := lookupParam(typ, c.Param); sp != nil && sp.uri {
			return searchEscape(v.Code)
		}
		return canonicalSearchToken(v)
	case ReferenceParam:
		switch {
		case c.Modifier == ModifierIdentifier:
			return canonicalSearchToken(v)
		case v.URL != "":
			return searchEscape(v.URL)
		case v.TargetType != "":
			return v.TargetType + "/" + searchEscape(v.TargetID)
		}
		return searchEscape(v.TargetID)
	case DateParam, LastUpdatedParam:
		text := v.Text
		if text == "" {
			text = time.UnixMicro(v.Low).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		}
		if v.Prefix != PrefixEq && int(v.Prefix) < len(searchPrefixCodes) {
			return searchPrefixCodes[v.Prefix] + text
		}
		return text
	case StringParam:
		return searchEscape(v.Text)
	}
	return ""
}

func canonicalSearchToken(v ClauseValue) string {
	if v.HasSystem {
		return searchEscape(v.System) + "|" + searchEscape(v.Code)
	}
	return searchEscape(v.Code)
}
