package adapter

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The audit trail. Every request made by a client (an Actor in the
// context) that touches patient data leaves one AuditEvent: who (client
// and organisation), what (the interaction, the resources), about whom
// (the person, when it is one) and how it ended.
//
//   - A write's AuditEvent is stored in the write's own transaction: there
//     is no change without its record. A write that fails leaves a record
//     of the failure, stored after it.
//   - A read, search, history or Task feed page that returns resources is
//     recorded before the answer goes back: if the record cannot be
//     stored, the client gets an error, not the data. Records of
//     concurrent reads are committed together (one transaction for all
//     that queue while the previous commit runs), so the cost of the trail
//     does not grow with every read.
//   - Reads and searches that find nothing the client may see, and
//     requests the gateway refuses before they reach the data (no token,
//     no scope), are not recorded here; the request log has them.

// ClientIdentifierSystem names client ids in AuditEvent agents.
const ClientIdentifierSystem = "https://carebridge.example/Id/client"

// maxAuditEntities bounds the resources one AuditEvent lists: a search
// page lists what it returned, up to this many.
const maxAuditEntities = 1000

// auditEntry is an access to record: a store.AuditRecord before its
// AuditEvent is rendered.
type auditEntry struct {
	rec         store.AuditRecord
	interaction string   // http://hl7.org/fhir/restful-interaction code
	query       string   // a search's query string; "" otherwise
	what        []string // the resources touched, "Type/id"
	failure     string   // why it failed; "" on success
}

// audited reports whether ctx is a client's request, to record.
func audited(ctx context.Context) (Actor, bool) {
	a, ok := ActorFrom(ctx)
	return a, ok && !a.System
}

// newAudit starts the record of a client's access.
func (g *Gateway) newAudit(a Actor, action, interaction, typ, id string) auditEntry {
	e := auditEntry{interaction: interaction, rec: store.AuditRecord{
		ID: g.newID(), Recorded: g.now().UTC().Truncate(time.Millisecond),
		Client: a.Client, ODS: a.ODS, Action: action, Type: typ, Resource: id, Outcome: "0",
	}}
	if id != "" {
		e.what = []string{typ + "/" + id}
	}
	return e
}

// failed marks e as failed with err: a minor failure for what the client
// got wrong, a serious one for the gateway's own.
func (e *auditEntry) failed(err error) {
	e.rec.Outcome = "4"
	if fhir.KindOf(err) == fhir.Internal {
		e.rec.Outcome = "8"
	}
	e.failure = fhir.AsError(err).Error()
}

// render writes the AuditEvent of e into its record.
func (e *auditEntry) render() {
	r := &e.rec
	ev := fhir.Object(
		fhir.Member{Name: "resourceType", Value: fhir.String("AuditEvent")},
		fhir.Member{Name: "id", Value: fhir.String(r.ID)},
		fhir.Member{Name: "type", Value: coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation")},
		fhir.Member{Name: "subtype", Value: fhir.Array(coding("http://hl7.org/fhir/restful-interaction", e.interaction, ""))},
		fhir.Member{Name: "action", Value: fhir.String(r.Action)},
		fhir.Member{Name: "recorded", Value: fhir.String(fhir.FormatInstant(r.Recorded))},
		fhir.Member{Name: "outcome", Value: fhir.String(r.Outcome)},
	)
	if e.failure != "" {
		ev.Set("outcomeDesc", fhir.String(e.failure))
	}
	agents := []fhir.Value{fhir.Object(
		fhir.Member{Name: "who", Value: identifierRef("Device", ClientIdentifierSystem, r.Client)},
		fhir.Member{Name: "requestor", Value: fhir.Bool(true)},
	)}
	if r.ODS != "" {
		agents = append(agents, fhir.Object(
			fhir.Member{Name: "who", Value: identifierRef("Organization", fhir.SystemODSCode, r.ODS)},
			fhir.Member{Name: "requestor", Value: fhir.Bool(false)},
		))
	}
	ev.Set("agent", fhir.Array(agents...))
	ev.Set("source", fhir.Object(
		fhir.Member{Name: "observer", Value: fhir.Object(fhir.Member{Name: "display", Value: fhir.String("CareBridge")})},
		fhir.Member{Name: "type", Value: fhir.Array(coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server"))},
	))
	var entities []fhir.Value
	if r.Person != "" {
		entities = append(entities, fhir.Object(
			fhir.Member{Name: "what", Value: identifierRef("Patient", fhir.SystemNHSNumber, r.Person)},
			fhir.Member{Name: "type", Value: coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person")},
			fhir.Member{Name: "role", Value: coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient")},
		))
	}
	for _, w := range e.what {
		entities = append(entities, fhir.Object(fhir.Member{Name: "what", Value: fhir.Object(fhir.Member{Name: "reference", Value: fhir.String(w)})}))
	}
	if e.query != "" {
		entities = append(entities, fhir.Object(
			fhir.Member{Name: "type", Value: coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object")},
			fhir.Member{Name: "description", Value: fhir.String(r.Type + " search")},
			fhir.Member{Name: "query", Value: fhir.String(base64.StdEncoding.EncodeToString([]byte(e.query)))},
		))
	}
	if len(entities) > 0 {
		ev.Set("entity", fhir.Array(entities...))
	}
	r.Body = ev.AppendJSON(nil)
}

// resolvePerson fills in the person a one-resource record is about, from
// the resource's projection row.
func (e *auditEntry) resolvePerson(ctx context.Context, tx store.Tx) error {
	if e.rec.Person != "" || e.rec.Resource == "" {
		return nil
	}
	row, ok, err := tx.Projection(ctx, e.rec.Type, e.rec.Resource)
	if err != nil {
		return err
	}
	if ok {
		e.rec.Person = row.Person
	}
	return nil
}

// auditWrite records, in tx, the successful write of entries in mode m;
// people are those whose facts it changed.
func (g *Gateway) auditWrite(ctx context.Context, tx store.Tx, entries []fhir.Entry, ws []work, people []string, m mode) error {
	a, ok := audited(ctx)
	if !ok {
		return nil
	}
	e := g.writeAudit(a, entries, m)
	for i := range ws {
		if ws[i].id != "" && ws[i].e.Method != http.MethodGet && len(e.what) < maxAuditEntities {
			e.what = append(e.what, ws[i].e.Type+"/"+ws[i].id)
		}
	}
	if m == single {
		e.rec.Resource = ws[0].id
	}
	if people = distinctPeople(people); len(people) == 1 {
		e.rec.Person = people[0]
	}
	if err := e.resolvePerson(ctx, tx); err != nil {
		return err
	}
	e.render()
	return tx.AddAudit(ctx, []store.AuditRecord{e.rec})
}

// writeAudit starts the record of a write of entries in mode m.
func (g *Gateway) writeAudit(a Actor, entries []fhir.Entry, m mode) auditEntry {
	switch {
	case m == transaction:
		return g.newAudit(a, "E", "transaction", "Bundle", "")
	case m == batchEntry:
		return g.newAudit(a, "E", "batch", "Bundle", "")
	}
	e := entries[0]
	switch e.Method {
	case http.MethodPost:
		return g.newAudit(a, "C", "create", e.Type, "")
	case http.MethodDelete:
		return g.newAudit(a, "D", "delete", e.Type, e.ID)
	}
	return g.newAudit(a, "U", "update", e.Type, e.ID)
}

// auditWriteFailure records a write that failed with err.
func (g *Gateway) auditWriteFailure(ctx context.Context, entries []fhir.Entry, m mode, err error) error {
	a, ok := audited(ctx)
	if !ok || ctx.Err() != nil {
		return nil
	}
	e := g.writeAudit(a, entries, m)
	e.failed(err)
	return g.audits.record(ctx, g.store, e)
}

// auditRead records a read of resources (each "Type/id"): a search when
// query is not nil. Nothing is recorded when nothing was read.
func (g *Gateway) auditRead(ctx context.Context, interaction, typ, id string, query url.Values, resources []store.Resource) error {
	a, ok := audited(ctx)
	if !ok || len(resources) == 0 {
		return nil
	}
	action := "R"
	if query != nil {
		action = "E"
	}
	e := g.newAudit(a, action, interaction, typ, id)
	if query != nil {
		e.query = query.Encode()
	}
	if id == "" {
		for _, r := range resources[:min(len(resources), maxAuditEntities)] {
			e.what = append(e.what, r.Type+"/"+r.ID+"/_history/"+strconv.FormatInt(r.VersionID, 10))
		}
	}
	return g.audits.record(ctx, g.store, e)
}

// auditQueue commits audit records outside write transactions, in groups:
// whoever records while no commit runs commits everything queued, and
// those who queue meanwhile wait for the next group.
type auditQueue struct {
	mu      sync.Mutex
	pending []*queuedAudit
	busy    bool
}

// queuedAudit is one record waiting for its group's commit.
type queuedAudit struct {
	entry auditEntry
	done  chan error // the group's outcome; nil tells a waiter to lead the next group
	lead  bool
}

// record stores e and returns when it is committed.
func (q *auditQueue) record(ctx context.Context, st store.Store, e auditEntry) error {
	me := &queuedAudit{entry: e, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, me)
	if q.busy {
		q.mu.Unlock()
		// No giving up on ctx here: this record may be chosen to lead the
		// next group, and the commit it waits for is bounded.
		if err := <-me.done; !me.lead {
			return err
		}
		q.mu.Lock()
	}
	q.busy = true
	group := q.pending
	q.pending = nil
	q.mu.Unlock()

	err := commitAudits(context.WithoutCancel(ctx), st, group)
	for _, a := range group {
		if a != me {
			a.done <- err
		}
	}
	q.mu.Lock()
	if len(q.pending) > 0 {
		next := q.pending[0]
		next.lead = true
		next.done <- nil
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	return err
}

// commitAudits stores a group of records in one transaction, with the
// people one-resource reads were about.
func commitAudits(ctx context.Context, st store.Store, group []*queuedAudit) error {
	records := make([]store.AuditRecord, len(group))
	err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
		for i, a := range group {
			e := a.entry
			if err := e.resolvePerson(ctx, tx); err != nil {
				return err
			}
			e.render()
			records[i] = e.rec
		}
		return tx.AddAudit(ctx, records)
	})
	if err != nil {
		return fhir.Wrap(err, "record the audit trail")
	}
	return nil
}

// failedWrite is the error of a write that failed with err, once its
// failure was recorded (auditErr): the write's own error, unless the
// record could not be stored.
func failedWrite(err, auditErr error) error {
	if auditErr != nil {
		return auditErr
	}
	return err
}

// AuditPage is one page of the audit trail: AuditEvents oldest first, and
// the query string of the next page ("" on the last).
type AuditPage struct {
	Events []store.AuditRecord
	Next   url.Values
	Self   url.Values
}

// AuditEvents searches the audit trail, for an auditor. Parameters:
// date (ge and lt prefixes, or a day), agent (client id), organization
// (ODS code), patient (NHS number, with or without its system),
// entity-type (resource type), entity (Type/id), action, outcome, _count
// and the page token of a next link.
func (g *Gateway) AuditEvents(ctx context.Context, params url.Values) (AuditPage, error) {
	q := store.AuditQuery{Count: g.count.def}
	self := url.Values{}
	for name, vals := range params {
		for _, v := range vals {
			if err := g.auditParam(&q, name, v); err != nil {
				return AuditPage{}, err
			}
			if name != "_page_token" && name != "_format" && name != "_pretty" {
				self.Add(name, v)
			}
		}
	}
	page, err := g.store.Audit(ctx, q)
	if err != nil {
		return AuditPage{}, err
	}
	out := AuditPage{Events: page.Records, Self: self}
	if page.Next != 0 {
		out.Next = url.Values{}
		for k, v := range self {
			out.Next[k] = v
		}
		out.Next.Set("_page_token", fhir.EncodePageToken(fhir.PageToken{Key: page.Next}))
	}
	return out, nil
}

// auditParam applies one search parameter of the audit trail to q.
func (g *Gateway) auditParam(q *store.AuditQuery, name, v string) error {
	bad := func(format string, args ...any) error {
		return fhir.Errorf(fhir.Invalid, fhir.IssueValue, name, format, args...)
	}
	switch name {
	case "date":
		prefix, day := v[:min(2, len(v))], v
		if prefix == "ge" || prefix == "lt" {
			day = v[2:]
		} else {
			prefix = ""
		}
		lo, hi, err := auditInterval(day, g.loc)
		if err != nil {
			return bad("date %q is not a date or an instant, with an optional ge or lt prefix", v)
		}
		switch prefix {
		case "ge":
			q.From = lo
		case "lt":
			q.To = lo
		default:
			q.From, q.To = lo, hi
		}
	case "agent":
		q.Client = v
	case "organization":
		q.ODS = lastPart(v)
	case "patient":
		q.Person = lastPart(v)
	case "entity-type":
		q.Type = v
	case "entity":
		typ, id, ok := strings.Cut(v, "/")
		if !ok {
			return bad("entity must be Type/id, not %q", v)
		}
		q.Type, q.Resource = typ, id
	case "action":
		if !slices.Contains([]string{"C", "R", "U", "D", "E"}, v) {
			return bad("action must be C, R, U, D or E, not %q", v)
		}
		q.Action = v
	case "outcome":
		if !slices.Contains([]string{"0", "4", "8", "12"}, v) {
			return bad("outcome must be 0, 4, 8 or 12, not %q", v)
		}
		q.Outcome = v
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad("_count must be a positive whole number, not %q", v)
		}
		q.Count = min(n, g.count.max)
	case "_page_token":
		tok, err := fhir.DecodePageToken(v)
		if err != nil || tok.Key < 1 {
			return bad("_page_token is not one this server issued")
		}
		q.After = tok.Key
	case "_format", "_pretty":
	default:
		return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, name,
			"parameter %q is not supported on AuditEvent; use date, agent, organization, patient, entity-type, entity, action, outcome and _count", name)
	}
	return nil
}

// lastPart is a token's code: what follows "system|", or all of it.
func lastPart(v string) string {
	if _, code, ok := strings.Cut(v, "|"); ok {
		return code
	}
	return v
}

// auditInterval reads a day (YYYY-MM-DD, in loc) or an instant as the
// interval it covers.
func auditInterval(v string, loc *time.Location) (time.Time, time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, t.Add(time.Millisecond), err
}
