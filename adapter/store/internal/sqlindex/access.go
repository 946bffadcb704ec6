package sqlindex

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"

	"github.com/carebridge/carebridge/adapter/store"
)

// Organisation-bound reads. Both engines keep, besides the schema in the
// package documentation:
//
//	resource_grant (key, ods)             primary key (key, ods)
//	person_org     (person, ods, reason)  primary key (person, ods, reason)
//	sc_projection  (type, id, person...)  primary key (type, id)
//
// A resource's grants are replaced by every Put of it; person_org is
// written by Tx.PutPersonOrgs.

// Sees writes " AND " and the condition that holds when viewer may see the
// resource r (the resources table aliased r); nothing when viewer is nil.
func Sees(s *Statement, viewer *store.Viewer) {
	if viewer == nil {
		return
	}
	s.Write(" AND ")
	visible(s, *viewer)
}

// visible writes the Viewer condition on r. Each branch is a probe of the
// candidate by primary key: its grant (key, ods); or its projection row
// (type, id), then the (person, ods) prefix of person_org's key. CROSS JOIN
// pins that order in SQLite, which might otherwise start from every person
// the organisation may see; PostgreSQL plans it as a plain join. A row about
// no one (the empty person) matches no person_org row, as PutPersonOrgs refuses those.
func visible(s *Statement, v store.Viewer) {
	s.Write("(EXISTS (SELECT 1 FROM resource_grant g WHERE g.key = r.key AND g.ods = ")
	s.Arg(v.ODS)
	s.Write(")")
	if v.ByPerson {
		s.Write(" OR EXISTS (SELECT 1 FROM sc_projection p CROSS JOIN person_org o" +
			" WHERE p.type = r.type AND p.id = r.id AND o.ods = ")
		s.Arg(v.ODS)
		s.Write(" AND o.person = p.person)")
	}
	s.Write(")")
}

// VisibleStatement returns the statement that answers one row, true when v
// may see typ/id and false otherwise (when it does not exist too).
func VisibleStatement(d Dialect, typ, id string, v store.Viewer) *Statement {
	s := NewStatement(d)
	s.Write("SELECT EXISTS (SELECT 1 FROM resources r WHERE r.type = ")
	s.Arg(typ)
	s.Write(" AND r.id = ")
	s.Arg(id)
	s.Write(" AND ")
	visible(s, v)
	s.Write(")")
	return s
}

// Grants returns the ODS codes a Write grants, as its grant rows: none for
// a delete, and no code twice or empty.
func Grants(w *store.Write) []string {
	if w.Deleted || len(w.Grants) == 0 {
		return nil
	}
	out := slices.DeleteFunc(slices.Clone(w.Grants), func(ods string) bool { return ods == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// PersonOrgRows checks the grants of a Tx.PutPersonOrgs for people and
// returns them as rows to insert: in (ODS, Person, Reason) order, none
// twice. It refuses a grant with an empty field or about a person not in
// people. Its errors name no person.
func PersonOrgRows(people []string, grants []store.PersonOrg) ([]store.PersonOrg, error) {
	for _, g := range grants {
		switch {
		case g.Person == "" || g.ODS == "" || g.Reason == "":
			return nil, errors.New("store: a person-organisation grant needs a person, an ODS code and a reason")
		case !slices.Contains(people, g.Person):
			return nil, errors.New("store: a person-organisation grant is about a person whose grants the call does not replace")
		}
	}
	rows := slices.Clone(grants)
	slices.SortFunc(rows, func(a, b store.PersonOrg) int {
		return cmp.Or(cmp.Compare(a.ODS, b.ODS), cmp.Compare(a.Person, b.Person), cmp.Compare(a.Reason, b.Reason))
	})
	return slices.Compact(rows), nil
}

// ScanPersonOrgs reads person_org rows selected as (person, ods, reason).
// Errors come back as the driver gave them, for the engine to translate.
func ScanPersonOrgs(rows ResultRows) ([]store.PersonOrg, error) {
	var out []store.PersonOrg
	for rows.Next() {
		var p store.PersonOrg
		if err := rows.Scan(&p.Person, &p.ODS, &p.Reason); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// NoncePruneBatch is how many expired nonces a UseNonce call forgets at
// most: enough to keep up with the calls that add them, few enough to cost
// one short index range.
const NoncePruneBatch = 16

// NonceKey returns the key a nonce is stored under: the key itself, or,
// when it is longer than MaxValueLen, a digest of it, so that any key fits
// the primary key's index.
func NonceKey(key string) string {
	if len(key) <= MaxValueLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
