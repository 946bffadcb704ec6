package sqlindex

import (
	"slices"

	"github.com/carebridge/carebridge/fhir"
)

// IdentifierParam is the token parameter that holds a resource's business
// identifiers; logical references are resolved against it.
const IdentifierParam = "identifier"

// Where writes the condition that selects the current, undeleted resources of
// q.Type matching every clause of q. It fails with fhir.Invalid when a clause
// combines a parameter type and modifier that have no meaning (the query
// parser refuses those first).
func Where(s *Statement, q *fhir.Query) error {
	s.Write("r.type = ")
	s.Arg(q.Type)
	s.Write(" AND NOT r.deleted")
	for n, i := range selectiveFirst(q.Clauses) {
		s.Write(" AND ")
		c := &q.Clauses[i]
		if n > 0 && c.Type == fhir.TokenParam && len(c.Values) > 0 &&
			(c.Modifier == fhir.ModifierNone || c.Modifier == fhir.ModifierNot) {
			tokenProbe(s, q.Type, c)
			continue
		}
		if err := clause(s, q.Type, c); err != nil {
			return err
		}
	}
	return nil
}

// tokenProbe writes a token clause that does not drive the search as a
// test of each candidate's own rows: [NOT] EXISTS a row of the candidate's
// key with the parameter and one of the values, found through the (key,
// param) index. As "key IN (...)", SQLite would first collect every
// resource with the value (every requested Task, for a practice's poll of
// its requested Tasks) to test a few candidates against them.
func tokenProbe(s *Statement, typ string, c *fhir.Clause) {
	if c.Modifier == fhir.ModifierNot {
		s.Write("NOT ")
	}
	s.Write("EXISTS (SELECT 1 FROM search_token t WHERE t.key = r.key AND t.param = ")
	s.Arg(c.Param)
	s.Write(" AND t.type = ")
	s.Arg(typ)
	s.Write(" AND (")
	for i, v := range c.Values {
		if i > 0 {
			s.Write(" OR ")
		}
		s.Write("(TRUE")
		tokenValue(s, "t.", v)
		s.Write(")")
	}
	s.Write("))")
}

// selectiveFirst returns the indexes of clauses in the order Where writes
// them: the ones likely to match few resources first. The order changes no
// result; it matters to SQLite, whose planner, without statistics, drives the
// search from the first "key IN (...)" condition and only probes the others.
// A Task poll (status=requested&owner:identifier=ods|X) should start from the
// practice's few Tasks, not from every requested one.
func selectiveFirst(clauses []fhir.Clause) []int {
	rank := func(c *fhir.Clause) int {
		switch {
		case c.Modifier == fhir.ModifierNot || c.Modifier == fhir.ModifierMissing:
			return 4 // a negation or an existence test never drives
		case c.Type == fhir.IDParam:
			return 0
		case c.Type == fhir.ReferenceParam, c.Type == fhir.TokenParam && c.Param == IdentifierParam:
			return 1
		case c.Type == fhir.StringParam, c.Type == fhir.DateParam:
			return 2
		case c.Type == fhir.TokenParam:
			return 3 // status, category, code: often shared by many
		}
		return 4 // _lastUpdated: a range over every resource of the type
	}
	order := make([]int, len(clauses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rank(&clauses[a]) - rank(&clauses[b]) })
	return order
}

func clause(s *Statement, typ string, c *fhir.Clause) error {
	if len(c.Values) == 0 {
		s.Write("FALSE")
		return nil
	}
	if c.Modifier == fhir.ModifierMissing {
		return missing(s, c)
	}
	if err := checkModifier(c); err != nil {
		return err
	}
	switch c.Type {
	case fhir.IDParam:
		s.Write("r.id ")
		if c.Modifier == fhir.ModifierNot {
			s.Write("NOT ")
		}
		s.Write("IN (")
		for i, v := range c.Values {
			if i > 0 {
				s.Write(", ")
			}
			s.Arg(v.Code)
		}
		s.Write(")")
		return nil
	case fhir.LastUpdatedParam:
		s.Write("(")
		for i, v := range c.Values {
			if i > 0 {
				s.Write(" OR ")
			}
			// The instant of the last update is the interval [t, t+1ms).
			datePredicate(s, "r.last_updated", "(r.last_updated + 1000)", v)
		}
		s.Write(")")
		return nil
	}
	s.Write("r.key ")
	if c.Modifier == fhir.ModifierNot {
		s.Write("NOT ")
	}
	s.Write("IN (")
	for i, v := range c.Values {
		if i > 0 {
			s.Write(" UNION ALL ")
		}
		switch c.Type {
		case fhir.TokenParam:
			tokenBranch(s, typ, c.Param, v)
		case fhir.ReferenceParam:
			if c.Modifier == fhir.ModifierIdentifier {
				identifierBranches(s, typ, c.Param, v)
			} else {
				referenceBranches(s, typ, c.Param, v)
			}
		case fhir.DateParam:
			s.Write("SELECT key FROM search_date WHERE param = ")
			s.Arg(c.Param)
			s.Write(" AND type = ")
			s.Arg(typ)
			s.Write(" AND ")
			datePredicate(s, "low", "high", v)
		case fhir.StringParam:
			s.Write("SELECT key FROM search_string WHERE param = ")
			s.Arg(c.Param)
			s.Write(" AND type = ")
			s.Arg(typ)
			s.Write(" AND ")
			stringPredicate(s, c.Modifier, v.Text)
		}
	}
	s.Write(")")
	return nil
}

// checkModifier refuses combinations of type and modifier that mean nothing.
func checkModifier(c *fhir.Clause) error {
	ok := false
	switch c.Type {
	case fhir.TokenParam, fhir.IDParam:
		ok = c.Modifier == fhir.ModifierNone || c.Modifier == fhir.ModifierNot
	case fhir.ReferenceParam:
		ok = c.Modifier == fhir.ModifierNone || c.Modifier == fhir.ModifierIdentifier || c.Modifier == fhir.ModifierNot
	case fhir.DateParam, fhir.LastUpdatedParam:
		ok = c.Modifier == fhir.ModifierNone
	case fhir.StringParam:
		ok = c.Modifier == fhir.ModifierNone || c.Modifier == fhir.ModifierExact || c.Modifier == fhir.ModifierContains
	}
	if !ok {
		return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, c.Param,
			"this modifier is not supported on a %s parameter", c.Type)
	}
	return nil
}

// missing writes a :missing clause: true when the resource has no entry for
// the parameter, false when it has one.
func missing(s *Statement, c *fhir.Clause) error {
	var table string
	switch c.Type {
	case fhir.TokenParam:
		table = "search_token"
	case fhir.ReferenceParam:
		table = "search_reference"
	case fhir.DateParam:
		table = "search_date"
	case fhir.StringParam:
		table = "search_string"
	case fhir.IDParam, fhir.LastUpdatedParam:
		table = "" // every resource has an id and a last update
	default:
		return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, c.Param, ":missing is not supported here")
	}
	s.Write("(")
	for i, v := range c.Values {
		if i > 0 {
			s.Write(" OR ")
		}
		switch {
		case table == "" && v.Missing:
			s.Write("FALSE")
		case table == "":
			s.Write("TRUE")
		default:
			if v.Missing {
				s.Write("NOT ")
			}
			s.Write("EXISTS (SELECT 1 FROM " + table + " x WHERE x.key = r.key AND x.param = ")
			s.Arg(c.Param)
			s.Write(")")
		}
	}
	s.Write(")")
	return nil
}

// tokenBranch selects the keys with a token matching v: without a system any
// system; "|code" only an empty system; "system|" any code of the system.
func tokenBranch(s *Statement, typ, param string, v fhir.ClauseValue) {
	s.Write("SELECT key FROM search_token WHERE param = ")
	s.Arg(param)
	tokenValue(s, "", v)
	s.Write(" AND type = ")
	s.Arg(typ)
}

// tokenValue writes the conditions on the code and system columns (with the
// column prefix p) for the token value v.
func tokenValue(s *Statement, p string, v fhir.ClauseValue) {
	if v.Code != "" || !v.HasSystem || v.System == "" {
		s.Write(" AND " + p + "code = ")
		s.Arg(Clip(v.Code))
	}
	if v.HasSystem {
		s.Write(" AND " + p + "system = ")
		s.Arg(Clip(v.System))
	}
}

// referenceBranches select the keys whose reference points at
// TargetType/TargetID, or at v.URL: literally, or logically through an
// identifier that the target currently has.
func referenceBranches(s *Statement, typ, param string, v fhir.ClauseValue) {
	if v.URL != "" {
		s.Write("SELECT key FROM search_reference WHERE param = ")
		s.Arg(param)
		s.Write(" AND kind = '" + KindURL + "' AND value = ")
		s.Arg(Clip(v.URL))
		s.Write(" AND type = ")
		s.Arg(typ)
		return
	}
	s.Write("SELECT key FROM search_reference WHERE param = ")
	s.Arg(param)
	s.Write(" AND kind = '" + KindLiteral + "' AND value = ")
	s.Arg(Clip(v.TargetID))
	if v.TargetType != "" {
		s.Write(" AND system = ")
		s.Arg(v.TargetType)
	}
	s.Write(" AND type = ")
	s.Arg(typ)
	// Logical references carrying an identifier of the target: from the
	// target, to its identifiers, to the references that carry one. CROSS
	// JOIN pins that order in SQLite, whose planner may otherwise start from
	// every reference of the parameter; PostgreSQL plans it as a plain join.
	s.Write(" UNION ALL SELECT f.key FROM resources x" +
		" CROSS JOIN search_token i CROSS JOIN search_reference f" +
		" WHERE x.id = ")
	s.Arg(Clip(v.TargetID))
	if v.TargetType != "" {
		s.Write(" AND x.type = ")
		s.Arg(v.TargetType)
	}
	s.Write(" AND i.key = x.key AND i.param = '" + IdentifierParam + "'" +
		" AND f.param = ")
	s.Arg(param)
	s.Write(" AND f.kind = '" + KindIdentifier + "' AND f.value = i.code AND f.system = i.system AND f.type = ")
	s.Arg(typ)
}

// identifierBranches select, for :identifier, the keys whose reference
// carries the identifier logically, or points literally at a resource that
// currently has the identifier.
func identifierBranches(s *Statement, typ, param string, v fhir.ClauseValue) {
	s.Write("SELECT key FROM search_reference WHERE param = ")
	s.Arg(param)
	s.Write(" AND kind = '" + KindIdentifier + "'")
	if v.Code != "" || !v.HasSystem || v.System == "" {
		s.Write(" AND value = ")
		s.Arg(Clip(v.Code))
	}
	if v.HasSystem {
		s.Write(" AND system = ")
		s.Arg(Clip(v.System))
	}
	s.Write(" AND type = ")
	s.Arg(typ)
	// From the resources with the identifier to the literal references to
	// them, in that order (see referenceBranches).
	s.Write(" UNION ALL SELECT f.key FROM search_token i" +
		" CROSS JOIN resources x CROSS JOIN search_reference f" +
		" WHERE i.param = '" + IdentifierParam + "'")
	tokenValue(s, "i.", v)
	s.Write(" AND x.key = i.key AND f.param = ")
	s.Arg(param)
	s.Write(" AND f.kind = '" + KindLiteral + "' AND f.value = x.id AND f.system = x.type AND f.type = ")
	s.Arg(typ)
}

// datePredicate writes the comparison of the target interval [lo, hi) (column
// expressions) with the search interval [v.Low, v.High) under v.Prefix, as
// fhir/match.go states it.
func datePredicate(s *Statement, lo, hi string, v fhir.ClauseValue) {
	sl := func() string { return s.placeholder(v.Low) }
	sh := func() string { return s.placeholder(v.High) }
	// eq: the target lies within the search interval. lo < High follows
	// from the rest for a non-empty target; it also bounds the scan of the
	// (param, type, low) index.
	eq := func() string {
		return "(" + lo + " >= " + sl() + " AND " + lo + " < " + sh() + " AND " + hi + " <= " + sh() + ")"
	}
	switch v.Prefix {
	case fhir.PrefixEq:
		s.Write(eq())
	case fhir.PrefixNe:
		s.Write("NOT " + eq())
	case fhir.PrefixGt:
		s.Write(hi + " > " + sh())
	case fhir.PrefixLt:
		s.Write(lo + " < " + sl())
	case fhir.PrefixGe:
		s.Write("(" + hi + " > " + sh() + " OR " + eq() + ")")
	case fhir.PrefixLe:
		s.Write("(" + lo + " < " + sl() + " OR " + eq() + ")")
	case fhir.PrefixSa:
		s.Write(lo + " >= " + sh())
	case fhir.PrefixEb:
		s.Write(hi + " <= " + sl())
	default:
		s.Write("FALSE") // no such prefix: matches nothing, as in fhir.Query.Matches
	}
}

// prefixEnd is appended to a prefix to make the exclusive upper bound of the
// values that start with it: U+10FFFF is the highest code point, so in byte
// order every value that starts with the prefix sorts below prefix+prefixEnd
// (unless it continues with U+10FFFF itself, a noncharacter).
const prefixEnd = "\U0010FFFF"

// stringPredicate writes the condition on the value column for the text t:
// prefix by default, equality for :exact, substring for :contains. Values
// compare byte by byte (BINARY in SQLite, COLLATE "C" in PostgreSQL).
func stringPredicate(s *Statement, m fhir.Modifier, t string) {
	switch m {
	case fhir.ModifierExact:
		s.Write("value = ")
		s.Arg(Clip(t))
	case fhir.ModifierContains:
		s.Write(s.d.Contains("value", s.placeholder(t)))
	default:
		t = Clip(t)
		s.Write("value >= ")
		s.Arg(t)
		s.Write(" AND value < ")
		s.Arg(t + prefixEnd)
	}
}
