package adapter

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// Organisation-bound access. When a request carries an organisation's
// Actor, the Gateway shows it only what that organisation may see, and lets
// it write only as itself. The store applies what the Gateway decides here
// (store.Viewer, store.Write.Grants, store.PersonOrg) in its SQL, so
// searches, totals, counts, pages and history are filtered, not only reads.
//
// The policy:
//
//   - An organisation sees every resource it wrote (the current version),
//     and every Task it owns or requested.
//   - It sees the other resources about a person (except Tasks and
//     Subscriptions) when it may see the person: a GP practice the person
//     is registered with; a trust with an open episode of care, or a
//     referral from or to it, or a care plan it owns, or that has ever
//     sent data about the person. A resource is about a person when the
//     shared-care projection has read it: resources the model does not
//     read (an Encounter, an Observation no code set names) stay with
//     their writer.
//   - Organization, Practitioner and PractitionerRole hold no personal
//     data: every client may read them.
//   - What it may not see does not exist for it: a read answers 404, as
//     for an id never used, and searches leave it out.
//   - It changes only what it wrote (Tasks follow the Task workflow:
//     owner and requester), and the searches inside a write (conditional
//     create, update, delete and references) see only what it wrote.
//   - What it writes carries its meta.source, stamped by the gateway; a
//     meta.source naming another sender is refused (403).

// referenceTypes hold no personal data: every client may read them.
var referenceTypes = map[string]bool{"Organization": true, "Practitioner": true, "PractitionerRole": true}

// viewerOf returns what the organisation acting in ctx may see of typ, or
// nil when nothing is hidden (no organisation acts, or typ holds no
// personal data).
func viewerOf(ctx context.Context, typ string) *store.Viewer {
	a, ok := organisation(ctx)
	if !ok || referenceTypes[typ] {
		return nil
	}
	return &store.Viewer{ODS: a.ODS, ByPerson: typ != "Task" && typ != "Subscription"}
}

// writerViewer is viewerOf without what the organisation sees through
// people: the view of the searches inside its writes.
func writerViewer(ctx context.Context, typ string) *store.Viewer {
	v := viewerOf(ctx, typ)
	if v != nil {
		v.ByPerson = false
	}
	return v
}

// visibility is what checkVisible asks: a store, or a transaction.
type visibility interface {
	Visible(ctx context.Context, typ, id string, v store.Viewer) (bool, error)
}

// checkVisible refuses, for a read, typ/id when the organisation acting in
// ctx may not see it: as not known (404), whatever is stored.
func checkVisible(ctx context.Context, st visibility, typ, id string) error {
	v := viewerOf(ctx, typ)
	if v == nil {
		return nil
	}
	ok, err := st.Visible(ctx, typ, id, *v)
	if err != nil {
		return err
	}
	if !ok {
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "%s/%s is not known", typ, id)
	}
	return nil
}

// writerODS is the organisation a write is made by, for its grants: ""
// for the gateway's own automation and for requests without an Actor.
func writerODS(ctx context.Context) string {
	a, _ := organisation(ctx)
	return a.ODS
}

// stampSource gives what an organisation writes its meta.source, and
// refuses one that names another sender. A meta.source the client sends
// may be its own, or its profile's source with another fragment: either
// is replaced by the stamp.
func stampSource(ctx context.Context, w *work) error {
	a, ok := organisation(ctx)
	if !ok || a.Source == "" {
		return nil
	}
	meta, _ := w.res.Get("meta")
	if sent := meta.Str("source"); sent != "" && sent != a.Source && sourceBase(sent) != sourceBase(a.Source) {
		return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, expr(w.e, "resource.meta.source"),
			"meta.source names another sender; leave it out and the gateway sets it to %s", a.Source)
	}
	if meta.Kind() != fhir.JSONObject {
		meta = fhir.Object()
	}
	meta.Set("source", fhir.String(a.Source))
	w.res.Set("meta", meta)
	return nil
}

// sourceBase is a meta.source without its fragment.
func sourceBase(s string) string {
	base, _, _ := strings.Cut(s, "#")
	return base
}

// checkWriter refuses a change an organisation may not make to an existing
// resource: one it did not write. Tasks are left to the Task workflow, and
// a resource that is deleted may be written again by anyone.
func checkWriter(ctx context.Context, tx store.Tx, w *work, cur store.Current) error {
	a, ok := organisation(ctx)
	if !ok || w.e.Type == "Task" || cur.VersionID == 0 || cur.Deleted {
		return nil
	}
	mine, err := tx.Visible(ctx, w.e.Type, w.id, store.Viewer{ODS: a.ODS})
	if err != nil {
		return err
	}
	if !mine {
		where := expr(w.e, "resource")
		if w.e.Method == http.MethodDelete {
			where = expr(w.e, "request")
		}
		return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, where,
			"%s/%s was written by another organisation; only the organisation that wrote it may change it", w.e.Type, w.id)
	}
	return nil
}

// checkTaskRequester refuses a Task an organisation creates in another's
// name: it must be the Task's requester.
func checkTaskRequester(ctx context.Context, tx store.Tx, w *work, ix *fhir.Index) error {
	a, ok := organisation(ctx)
	if !ok {
		return nil
	}
	parties, err := taskParties(ctx, tx, ix)
	if err != nil {
		return err
	}
	if !slices.Contains(parties.requesters, a.ODS) {
		return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, expr(w.e, "resource.requester"),
			"a Task this client creates must name its organisation %s as requester (identifier %s|%s)", a.ODS, fhir.SystemODSCode, a.ODS)
	}
	return nil
}

// checkSubscriber refuses a Subscription an organisation may not hold:
// one whose criteria could match what it may not see. An organisation
// subscribes to the Tasks it owns.
func checkSubscriber(ctx context.Context, w *work, criteria *fhir.Query) error {
	a, ok := organisation(ctx)
	if !ok {
		return nil
	}
	if criteria.Type == "Task" {
		for _, c := range criteria.Clauses {
			if c.Param == "owner" && c.Modifier == fhir.ModifierIdentifier && len(c.Values) > 0 &&
				!slices.ContainsFunc(c.Values, func(v fhir.ClauseValue) bool { return v.System != fhir.SystemODSCode || v.Code != a.ODS }) {
				return nil
			}
		}
	}
	return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, expr(w.e, "resource.criteria"),
		"a client may subscribe only to the Tasks its organisation owns: criteria Task?owner=%s|%s, with other parameters if it likes", fhir.SystemODSCode, a.ODS)
}

// parties are the organisations a Task names, by ODS code.
type parties struct{ owners, requesters []string }

// taskParties reads a Task version's owner and requester organisations
// from its index: ODS identifiers, and literal Organization references
// resolved through the projection.
func taskParties(ctx context.Context, tx store.Tx, ix *fhir.Index) (parties, error) {
	var p parties
	if ix == nil {
		return p, nil
	}
	var orgs *txResolver
	for _, e := range ix.References {
		var to *[]string
		switch e.Param {
		case "owner":
			to = &p.owners
		case "requester":
			to = &p.requesters
		default:
			continue
		}
		if e.IdentifierSystem == fhir.SystemODSCode && e.IdentifierValue != "" {
			*to = append(*to, e.IdentifierValue)
		}
		if e.TargetType == "Organization" && e.TargetID != "" {
			if orgs == nil {
				orgs = &txResolver{tx: tx, orgs: map[string]string{}}
			}
			ods, _, err := orgs.OrganizationODS(ctx, e.TargetID)
			if err != nil {
				return p, err
			}
			if ods != "" {
				*to = append(*to, ods)
			}
		}
	}
	return p, nil
}

// grant sets the grants of writes: their writer's organisation, and for a
// Task its owners and requesters.
func grant(ctx context.Context, tx store.Tx, writer string, writes []store.Write) error {
	for i := range writes {
		w := &writes[i]
		w.Grants = nil
		if w.Deleted {
			continue
		}
		if writer != "" {
			w.Grants = append(w.Grants, writer)
		}
		if w.Type != "Task" {
			continue
		}
		p, err := taskParties(ctx, tx, w.Index)
		if err != nil {
			return err
		}
		w.Grants = append(append(w.Grants, p.owners...), p.requesters...)
		slices.Sort(w.Grants)
		w.Grants = slices.Compact(w.Grants)
	}
	return nil
}

// orgOfSource is the organisation whose client wrote a version with
// meta.source source ("...#client"), "" when no configured client did.
func (g *Gateway) orgOfSource(source string) string {
	_, client, ok := strings.Cut(source, "#")
	if !ok {
		return ""
	}
	return g.clientOrgs[client]
}

// refreshPersonOrgs brings the organisations that may see people in line
// with their facts, after a write changed them: the practice they are
// registered with, the trusts holding an open episode, the organisations
// of their referrals and the owners of their active care plans; and
// sentBy, a trust that wrote about them, for good.
func (g *Gateway) refreshPersonOrgs(ctx context.Context, tx store.Tx, people []string, sentBy string) error {
	people = distinctPeople(people)
	if len(people) == 0 {
		return nil
	}
	rows, err := tx.ProjectionsOfPeople(ctx, people)
	if err != nil {
		return err
	}
	return putPersonOrgs(ctx, tx, people, rows, sentBy)
}

// putPersonOrgs replaces the organisations that may see people (distinct,
// none empty) with those their projection rows name, plus sentBy.
func putPersonOrgs(ctx context.Context, tx store.Tx, people []string, rows []store.Projection, sentBy string) error {
	var grants []store.PersonOrg
	for _, row := range rows {
		f, err := decodeFacts(row)
		if err != nil {
			return err
		}
		grants = append(grants, personOrgs(row.Person, f)...)
	}
	if sentBy != "" {
		for _, p := range people {
			grants = append(grants, store.PersonOrg{Person: p, ODS: sentBy, Reason: store.ReasonSent})
		}
	}
	slices.SortFunc(grants, func(a, b store.PersonOrg) int {
		return strings.Compare(a.Person+"|"+a.ODS+"|"+a.Reason, b.Person+"|"+b.ODS+"|"+b.Reason)
	})
	return tx.PutPersonOrgs(ctx, people, slices.Compact(grants))
}

// sender is the trust a write in ctx comes from, whose writing about
// people lets it see them: "" for a practice, the gateway, or no one.
func sender(ctx context.Context) string {
	if a, ok := organisation(ctx); ok && a.Side == SideSecondary {
		return a.ODS
	}
	return ""
}

// distinctPeople is people sorted, without repeats or blanks.
func distinctPeople(people []string) []string {
	people = slices.Compact(slices.Sorted(slices.Values(people)))
	return slices.DeleteFunc(people, func(p string) bool { return p == "" })
}

// personOrgs are the organisations one resource's facts let see person.
func personOrgs(person string, f sharedcare.Facts) []store.PersonOrg {
	var out []store.PersonOrg
	add := func(ods, reason string) {
		if ods != "" {
			out = append(out, store.PersonOrg{Person: person, ODS: ods, Reason: reason})
		}
	}
	if f.Person != nil {
		add(f.Person.GPPractice, store.ReasonRegistered)
	}
	for _, e := range f.Episodes {
		if e.End == "" {
			add(e.Trust, store.ReasonEpisode)
		}
	}
	for _, r := range f.Referrals {
		if r.Status != "revoked" && r.Status != "entered-in-error" {
			add(r.From, store.ReasonReferral)
			add(r.To, store.ReasonReferral)
		}
	}
	for _, c := range f.CarePlans {
		if c.Status == "active" || c.Status == "on-hold" || c.Status == "draft" {
			for _, o := range c.Owners {
				add(o, store.ReasonCarePlan)
			}
		}
	}
	return out
}
