// Package adapter holds the Gateway: CareBridge's use cases (read, search,
// history, create, update, delete, transaction and batch Bundles) on top of
// the fhir toolkit and a store.Store. The REST layer decodes requests, calls
// one Gateway method and encodes the result; every rule lives here or below.
//
// Every write, including a single create, is one store transaction that
// stores the resources, their versions and their search index together.
package adapter

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
	"github.com/carebridge/carebridge/mappings"
)

// Config tunes the Gateway.
type Config struct {
	// Location is the time zone of dates and times sent without one
	// (Europe/London for English care records).
	Location *time.Location
	// DefaultCount and MaxCount bound search page sizes.
	DefaultCount int
	MaxCount     int
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// NewID returns a new resource id; time-ordered UUIDs when nil.
	NewID func() string
	// Mappings chooses the mapping profile of each write. With it, every
	// write also updates the shared-care projection in its transaction;
	// without it (nil) nothing is projected.
	Mappings *mappings.Registry
	// HealthCheck configures the annual health check. With it (and
	// Mappings), every write also reconciles the health check Tasks of
	// the people it touched, at today's date, in its transaction; without
	// it (nil) no Tasks are raised.
	HealthCheck *healthcheck.Config
	// PCNs groups practices for health check reports: PCN ODS code to the
	// practices' ODS codes.
	PCNs map[string][]string
	// OrgNames are organisations' names by ODS code, for reports.
	OrgNames map[string]string
	// ClientOrgs are the ODS codes of the client systems' organisations,
	// by client id: who wrote a stored version, from its meta.source.
	ClientOrgs map[string]string
}

// Gateway runs CareBridge's FHIR interactions against a store.
type Gateway struct {
	store store.Store
	loc   *time.Location
	now   func() time.Time
	newID func() string
	count struct{ def, max int }
	proj  *projector          // nil: no shared-care projection
	check *healthcheck.Config // nil: no health check
	pcns  map[string][]string
	names map[string]string
	// clientOrgs are the organisations of client ids (Config.ClientOrgs).
	clientOrgs map[string]string
	// audits commits the audit records of reads.
	audits auditQueue
	// commits wakes those waiting for the next committed write.
	commits broadcast
	// subs are the parsed Subscriptions that writes are matched against.
	subs subscriptions
	// queued wakes those waiting for the next commit that queued
	// notifications.
	queued broadcast
}

// New returns a Gateway over st.
func New(st store.Store, cfg Config) *Gateway {
	g := &Gateway{store: st, loc: cfg.Location, now: cfg.Now, newID: cfg.NewID, pcns: cfg.PCNs, names: cfg.OrgNames, clientOrgs: cfg.ClientOrgs}
	if g.loc == nil {
		g.loc = time.UTC
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.newID == nil {
		g.newID = newUUID
	}
	if cfg.Mappings != nil {
		g.proj = &projector{reg: cfg.Mappings}
		if cfg.HealthCheck != nil {
			hc := *cfg.HealthCheck
			g.check = &hc
		}
	}
	g.count.def, g.count.max = cfg.DefaultCount, cfg.MaxCount
	if g.count.def <= 0 {
		g.count.def = 50
	}
	if g.count.max < g.count.def {
		g.count.max = max(1000, g.count.def)
	}
	return g
}

// newUUID returns a version 7 UUID: random, but ordered by time, which keeps
// the stores' id indexes append-mostly.
func newUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// Ping reports whether the store answers, for readiness checks.
func (g *Gateway) Ping(ctx context.Context) error { return g.store.Ping(ctx) }

// Read returns the current version of a resource.
func (g *Gateway) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	if err := checkType(typ); err != nil {
		return store.Resource{}, err
	}
	if err := allow(ctx, typ, InteractionRead, ""); err != nil {
		return store.Resource{}, err
	}
	if err := checkVisible(ctx, g.store, typ, id); err != nil {
		return store.Resource{}, err
	}
	r, err := g.store.Read(ctx, typ, id)
	if err != nil {
		return r, notFoundText(err, typ, id)
	}
	return r, g.auditRead(ctx, "read", typ, id, nil, []store.Resource{r})
}

// VRead returns one version of a resource; a deleted version is fhir.Gone.
func (g *Gateway) VRead(ctx context.Context, typ, id string, version int64) (store.Resource, error) {
	if err := checkType(typ); err != nil {
		return store.Resource{}, err
	}
	if err := allow(ctx, typ, InteractionRead, ""); err != nil {
		return store.Resource{}, err
	}
	if err := checkVisible(ctx, g.store, typ, id); err != nil {
		return store.Resource{}, err
	}
	r, err := g.store.VRead(ctx, typ, id, version)
	if err != nil {
		return r, notFoundText(err, typ, id+"/_history/"+strconv.FormatInt(version, 10))
	}
	if r.Deleted {
		return r, fhir.Errorf(fhir.Gone, fhir.IssueDeleted, "",
			"version %d of %s/%s is a deletion", version, typ, id)
	}
	return r, g.auditRead(ctx, "vread", typ, id, nil, []store.Resource{r})
}

// notFoundText gives the store's NotFound and Gone errors a sentence the
// sender understands.
func notFoundText(err error, typ, id string) error {
	switch fhir.KindOf(err) {
	case fhir.NotFound:
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "%s/%s is not known", typ, id)
	case fhir.Gone:
		return fhir.Errorf(fhir.Gone, fhir.IssueDeleted, "", "%s/%s has been deleted", typ, id)
	}
	return err
}

func checkType(typ string) error {
	if !fhir.Served(typ) {
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotSupported, "",
			"resource type %q is not served here", typ)
	}
	return nil
}

// SearchPage is one page of search results.
type SearchPage struct {
	Query    *fhir.Query
	Result   store.SearchResult
	Warnings []fhir.Issue // parameters ignored under lenient handling
}

// Search runs a search. Unknown parameters are refused unless lenient.
func (g *Gateway) Search(ctx context.Context, typ string, params url.Values, lenient bool) (SearchPage, error) {
	if err := checkType(typ); err != nil {
		return SearchPage{}, err
	}
	if err := allow(ctx, typ, InteractionSearch, ""); err != nil {
		return SearchPage{}, err
	}
	q, warnings, err := fhir.ParseQuery(typ, params, g.queryOptions(lenient))
	if err != nil {
		return SearchPage{}, err
	}
	res, err := g.store.Search(ctx, q, viewerOf(ctx, typ))
	if err != nil {
		return SearchPage{}, err
	}
	if err := g.auditRead(ctx, "search-type", typ, "", params, res.Resources); err != nil {
		return SearchPage{}, err
	}
	return SearchPage{Query: q, Result: res, Warnings: warnings}, nil
}

func (g *Gateway) queryOptions(lenient bool) fhir.QueryOptions {
	return fhir.QueryOptions{Location: g.loc, Lenient: lenient, DefaultCount: g.count.def, MaxCount: g.count.max}
}

// HistoryPage is one page of _history.
type HistoryPage struct {
	Type, ID string
	Count    int
	Since    time.Time
	Result   store.HistoryResult
}

// History returns the versions of one resource (id set) or of a type,
// newest first. Parameters: _count, _since and the page token of a next link.
func (g *Gateway) History(ctx context.Context, typ, id string, params url.Values) (HistoryPage, error) {
	if err := checkType(typ); err != nil {
		return HistoryPage{}, err
	}
	interaction := InteractionSearch
	if id != "" {
		interaction = InteractionRead
	}
	if err := allow(ctx, typ, interaction, ""); err != nil {
		return HistoryPage{}, err
	}
	hq, err := g.parseHistory(params)
	if err != nil {
		return HistoryPage{}, err
	}
	hq.Type, hq.ID, hq.Viewer = typ, id, viewerOf(ctx, typ)
	if id != "" {
		if err := checkVisible(ctx, g.store, typ, id); err != nil {
			return HistoryPage{}, err
		}
		if _, err := g.store.VRead(ctx, typ, id, 1); err != nil {
			return HistoryPage{}, notFoundText(err, typ, id)
		}
	}
	res, err := g.store.History(ctx, hq)
	if err != nil {
		return HistoryPage{}, err
	}
	kind := "history-type"
	if id != "" {
		kind = "history-instance"
	}
	if err := g.auditRead(ctx, kind, typ, id, nil, res.Versions); err != nil {
		return HistoryPage{}, err
	}
	return HistoryPage{Type: typ, ID: id, Count: hq.Count, Since: hq.Since, Result: res}, nil
}

func (g *Gateway) parseHistory(params url.Values) (store.HistoryQuery, error) {
	hq := store.HistoryQuery{Count: g.count.def}
	for name, vals := range params {
		v := vals[len(vals)-1]
		switch name {
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return hq, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "_count", "_count must be a positive whole number, not %q", v)
			}
			hq.Count = min(n, g.count.max)
		case "_since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return hq, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "_since", "_since must be an instant such as 2025-04-01T00:00:00Z, not %q", v)
			}
			hq.Since = t
		case "_page_token":
			tok, err := fhir.DecodePageToken(v)
			if err != nil || tok.Key < 1 {
				return hq, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "_page_token", "_page_token is not one this server issued")
			}
			hq.Before = tok.Key
		case "_format", "_pretty":
		default:
			return hq, fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, name, "parameter %q is not supported for _history; use _count and _since", name)
		}
	}
	return hq, nil
}
