package adapter

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// EntryResult is the outcome of one write or Bundle entry.
type EntryResult struct {
	Method   string         // the entry's request method: GET, POST, PUT or DELETE
	Status   int            // http.StatusOK, StatusCreated or StatusNoContent on success
	Resource store.Resource // the version written or found; for a delete, the tombstone (no Body)
	Search   *SearchPage    // a GET search entry's results
	Err      *fhir.Error    // a batch entry that failed; nil otherwise
	Issues   []fhir.Issue   // warnings and information about the entry
}

// mode says where an entry comes from, which decides how urn:uuid references
// and error expressions are treated.
type mode uint8

const (
	single      mode = iota // a plain REST interaction: urn:uuid references are kept as written
	transaction             // urn:uuid references must name an entry of the Bundle
	batchEntry              // entries are independent: urn:uuid references are refused
)

// Create stores a new resource. With ifNoneExist (the If-None-Exist header),
// an existing match is returned instead (200), and two matches fail (412).
func (g *Gateway) Create(ctx context.Context, res fhir.Value, ifNoneExist string) (EntryResult, error) {
	typ := res.Str("resourceType")
	e := fhir.Entry{Index: -1, Method: http.MethodPost, Type: typ, Resource: &res}
	if ifNoneExist != "" {
		q, err := fhir.ParseCondition(typ, ifNoneExist)
		if err != nil {
			return EntryResult{}, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "", "If-None-Exist: %s", err)
		}
		e.IfNoneExist = q
	}
	return g.writeOne(ctx, e)
}

// Update stores a new version of Type/id, creating it when absent. ifMatch
// (the If-Match header) makes it conditional on the current version.
func (g *Gateway) Update(ctx context.Context, typ, id string, res fhir.Value, ifMatch string) (EntryResult, error) {
	e := fhir.Entry{Index: -1, Method: http.MethodPut, Type: typ, ID: id, Resource: &res}
	if err := g.setIfMatch(&e, ifMatch); err != nil {
		return EntryResult{}, err
	}
	return g.writeOne(ctx, e)
}

// ConditionalUpdate updates the one resource matching query, or creates one
// when none does; two matches fail with 412.
func (g *Gateway) ConditionalUpdate(ctx context.Context, typ string, query url.Values, res fhir.Value, ifMatch string) (EntryResult, error) {
	e := fhir.Entry{Index: -1, Method: http.MethodPut, Type: typ, Query: query, Resource: &res}
	if err := g.setIfMatch(&e, ifMatch); err != nil {
		return EntryResult{}, err
	}
	return g.writeOne(ctx, e)
}

// Delete deletes Type/id. Deleting what does not exist, or no longer
// exists, succeeds without a change, so a retried delete is harmless.
func (g *Gateway) Delete(ctx context.Context, typ, id string, ifMatch string) (EntryResult, error) {
	e := fhir.Entry{Index: -1, Method: http.MethodDelete, Type: typ, ID: id}
	if err := g.setIfMatch(&e, ifMatch); err != nil {
		return EntryResult{}, err
	}
	return g.writeOne(ctx, e)
}

// ConditionalDelete deletes the one resource matching query; two matches
// fail with 412.
func (g *Gateway) ConditionalDelete(ctx context.Context, typ string, query url.Values) (EntryResult, error) {
	return g.writeOne(ctx, fhir.Entry{Index: -1, Method: http.MethodDelete, Type: typ, Query: query})
}

func (g *Gateway) setIfMatch(e *fhir.Entry, ifMatch string) error {
	if ifMatch == "" {
		return nil
	}
	v, ok := fhir.ParseETag(ifMatch)
	if !ok {
		return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "", "If-Match %q is not a version tag such as W/\"3\"", ifMatch)
	}
	e.IfMatch = v
	return nil
}

func (g *Gateway) writeOne(ctx context.Context, e fhir.Entry) (EntryResult, error) {
	if err := checkType(e.Type); err != nil {
		return EntryResult{}, err
	}
	if e.Method == http.MethodPut && e.ID != "" {
		if id := e.Resource.Str("id"); id != e.ID {
			if id == "" {
				return EntryResult{}, fhir.Errorf(fhir.Invalid, fhir.IssueRequired, e.Type+".id",
					"an update must carry the resource id; the URL names %s/%s", e.Type, e.ID)
			}
			return EntryResult{}, fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, e.Type+".id",
				"the resource id %q does not match the id %q in the URL", id, e.ID)
		}
	}
	entries := []fhir.Entry{e}
	var results []EntryResult
	err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		results, err = g.execute(ctx, tx, entries, single)
		return err
	})
	if err != nil {
		return EntryResult{}, failedWrite(err, g.auditWriteFailure(ctx, entries, single, err))
	}
	return results[0], nil
}

// work is the state of one entry while a transaction is planned.
type work struct {
	e      *fhir.Entry
	res    fhir.Value // a copy of the entry's resource, rewritten in place
	id     string     // the resource the entry acts on, once known
	create bool       // a new resource: version 1 without reading anything
	found  bool       // a conditional create matched: nothing to write
	skip   bool       // nothing to write (delete of nothing)
	index  *fhir.Index
	prelim *fhir.Index // the index before references are resolved, for in-Bundle matching
	result EntryResult
}

// execute runs entries inside tx, in FHIR transaction order. It must be safe
// to run again from the start when the store retries the transaction, so it
// never changes entries.
func (g *Gateway) execute(ctx context.Context, tx store.Tx, entries []fhir.Entry, m mode) ([]EntryResult, error) {
	now := g.now().UTC().Truncate(time.Millisecond)
	ws := make([]work, len(entries))
	for i := range entries {
		ws[i].e = &entries[i]
		if entries[i].Resource != nil {
			ws[i].res = entries[i].Resource.Clone()
		}
	}
	for i := range entries {
		if err := allow(ctx, entries[i].Type, entryInteraction(&entries[i]), expr(&entries[i], "request")); err != nil {
			return nil, err
		}
	}
	order := fhir.ProcessingOrder(entries)
	fullURLs := make(map[string]string) // fullUrl -> "Type/id"

	// Resolve what each DELETE, POST and PUT acts on.
	for _, i := range order {
		w := &ws[i]
		var err error
		switch w.e.Method {
		case http.MethodDelete:
			err = g.resolveTarget(ctx, tx, ws, w, m)
		case http.MethodPost:
			err = g.resolveCreate(ctx, tx, ws, w, m)
		case http.MethodPut:
			err = g.resolveTarget(ctx, tx, ws, w, m)
		}
		if err != nil {
			return nil, err
		}
		if w.e.FullURL != "" && w.id != "" && w.e.Method != http.MethodDelete {
			fullURLs[w.e.FullURL] = w.e.Type + "/" + w.id
		}
	}
	if err := checkOverlap(ws, m); err != nil {
		return nil, err
	}
	// Resolve references in what will be written.
	for _, i := range order {
		w := &ws[i]
		if (w.e.Method == http.MethodPost && !w.found) || w.e.Method == http.MethodPut {
			if err := g.resolveReferences(ctx, tx, ws, w, fullURLs, m); err != nil {
				return nil, err
			}
		}
	}
	// Build the new versions.
	current, err := currentVersions(ctx, tx, ws)
	if err != nil {
		return nil, err
	}
	writes := make([]store.Write, 0, len(ws))
	var people []string
	for _, i := range order {
		w := &ws[i]
		if w.e.Method == http.MethodGet || w.found {
			continue
		}
		wr, ok, err := g.newVersion(ctx, tx, w, current[w.e.Type+"/"+w.id], now, m)
		if err != nil {
			return nil, err
		}
		if ok {
			writes = append(writes, wr)
		}
	}
	if len(writes) > 0 {
		if err := g.put(ctx, tx, writerODS(ctx), writes); err != nil {
			return nil, err
		}
		people, err = g.projectWrites(ctx, tx, ws, writes)
		if err != nil {
			return nil, err
		}
		// Reconciliation reads the people's facts anyway, and brings
		// who may see them in line on the way.
		if g.check != nil {
			if _, err := g.reconcile(ctx, tx, people, g.today(), sender(ctx)); err != nil {
				return nil, fmt.Errorf("reconcile the health check: %w", err)
			}
		} else if err := g.refreshPersonOrgs(ctx, tx, people, sender(ctx)); err != nil {
			return nil, err
		}
	}
	if err := g.auditWrite(ctx, tx, entries, ws, people, m); err != nil {
		return nil, err
	}
	// Reads and searches run last and see the writes.
	for _, i := range order {
		if w := &ws[i]; w.e.Method == http.MethodGet {
			if err := g.get(ctx, tx, w); err != nil {
				return nil, err
			}
		}
	}
	results := make([]EntryResult, len(ws))
	for i := range ws {
		results[i] = ws[i].result
		results[i].Method = entries[i].Method
	}
	return results, nil
}

// projectWrites updates the shared-care projection for the new versions and
// adds the mapping warnings to their entries' results. It returns the people
// whose facts changed.
func (g *Gateway) projectWrites(ctx context.Context, tx store.Tx, ws []work, writes []store.Write) ([]string, error) {
	if g.proj == nil {
		return nil, nil
	}
	byKey := make(map[string]*work, len(ws))
	for i := range ws {
		byKey[ws[i].e.Type+"/"+ws[i].id] = &ws[i]
	}
	items := make([]projectItem, len(writes))
	for i, wr := range writes {
		items[i] = projectItem{Type: wr.Type, ID: wr.ID, VersionID: wr.VersionID, Deleted: wr.Deleted}
		if w := byKey[wr.Type+"/"+wr.ID]; w != nil && !wr.Deleted {
			items[i].Res = &w.res
			items[i].New = w.create
		}
	}
	warnings, people, err := g.proj.project(ctx, tx, items)
	if err != nil {
		return nil, fmt.Errorf("update the shared-care projection: %w", err)
	}
	for key, issues := range warnings {
		w := byKey[key]
		if w == nil {
			continue
		}
		for _, is := range issues {
			is.Expression = expr(w.e, "resource"+trimType(is.Expression))
			w.result.Issues = append(w.result.Issues, is)
		}
	}
	return people, nil
}

// expr returns an issue expression for part of an entry: FHIRPath into the
// Bundle for Bundle entries, into the resource for single interactions.
func expr(e *fhir.Entry, rest string) string {
	if e.Index >= 0 {
		return e.Expr(rest)
	}
	if r, ok := cutPrefix(rest, "resource"); ok {
		return e.Type + r
	}
	return ""
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// search runs a conditional search of typ inside tx and returns the ids of up
// to two matches, plus the matching new resources of earlier entries.
func (g *Gateway) search(ctx context.Context, tx store.Tx, ws []work, typ string, params url.Values, where string) ([]string, error) {
	q, _, err := fhir.ParseQuery(typ, params, g.queryOptions(false))
	if err != nil {
		if fe, ok := err.(*fhir.Error); ok {
			return nil, withExpression(fe, where)
		}
		return nil, err
	}
	q.Count, q.Total, q.Page = 2, false, nil
	if err := tx.Lock(ctx, typ+"?"+q.Canonical().Encode()); err != nil {
		return nil, err
	}
	res, err := tx.Search(ctx, q, writerViewer(ctx, typ))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, 2)
	for _, r := range res.Resources {
		ids = append(ids, r.ID)
	}
	for i := range ws {
		w := &ws[i]
		if !w.create || w.e.Type != typ {
			continue
		}
		if w.prelim == nil {
			ix, err := fhir.ExtractIndex(typ, w.res, g.loc)
			if err != nil {
				return nil, err
			}
			w.prelim = ix
		}
		if q.Matches(w.id, time.Time{}, w.prelim) {
			ids = append(ids, w.id)
		}
	}
	return ids, nil
}

// withExpression points a parameter error at the element that held the search.
func withExpression(e *fhir.Error, where string) *fhir.Error {
	out := &fhir.Error{Kind: e.Kind, Err: e.Err, Issues: make([]fhir.Issue, len(e.Issues))}
	for i, is := range e.Issues {
		if where != "" {
			is.Diagnostics = is.Expression + ": " + is.Diagnostics
			is.Expression = where
		}
		out.Issues[i] = is
	}
	return out
}

func (g *Gateway) resolveCreate(ctx context.Context, tx store.Tx, ws []work, w *work, m mode) error {
	if w.e.IfNoneExist != nil {
		ids, err := g.search(ctx, tx, ws, w.e.Type, w.e.IfNoneExist, expr(w.e, "request.ifNoneExist"))
		if err != nil {
			return err
		}
		switch len(ids) {
		case 0:
		case 1:
			r, err := tx.Read(ctx, w.e.Type, ids[0])
			if err != nil {
				return err
			}
			w.id, w.found = ids[0], true
			w.result = EntryResult{Status: http.StatusOK, Resource: r, Issues: []fhir.Issue{{
				Severity: fhir.SeverityInformation, Code: fhir.IssueDuplicate,
				Diagnostics: "a " + w.e.Type + " matching the If-None-Exist condition exists; nothing was created",
			}}}
			return nil
		default:
			return fhir.Errorf(fhir.PreconditionFailed, fhir.IssueMultipleMatches, expr(w.e, "request.ifNoneExist"),
				"more than one %s matches the If-None-Exist condition", w.e.Type)
		}
	}
	w.id, w.create = g.newID(), true
	return nil
}

// resolveTarget finds the resource a PUT or DELETE acts on.
func (g *Gateway) resolveTarget(ctx context.Context, tx store.Tx, ws []work, w *work, m mode) error {
	if !w.e.Conditional() {
		w.id = w.e.ID
		return nil
	}
	ids, err := g.search(ctx, tx, ws, w.e.Type, w.e.Query, expr(w.e, "request.url"))
	if err != nil {
		return err
	}
	switch len(ids) {
	case 0:
		if w.e.Method == http.MethodDelete {
			w.skip = true
			w.result = EntryResult{Status: http.StatusNoContent, Issues: []fhir.Issue{{
				Severity: fhir.SeverityInformation, Code: fhir.IssueNotFound,
				Diagnostics: "no " + w.e.Type + " matches the condition; nothing was deleted",
			}}}
			return nil
		}
		if id := w.res.Str("id"); id != "" {
			w.id = id // a conditional update may name the id to create
		} else {
			w.id, w.create = g.newID(), true
		}
	case 1:
		if id := w.res.Str("id"); id != "" && id != ids[0] {
			return fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, expr(w.e, "resource.id"),
				"the resource id %q is not the id of the %s matching the condition", id, w.e.Type)
		}
		w.id = ids[0]
	default:
		return fhir.Errorf(fhir.PreconditionFailed, fhir.IssueMultipleMatches, expr(w.e, "request.url"),
			"more than one %s matches the condition", w.e.Type)
	}
	return nil
}

// checkOverlap refuses a transaction that acts on one resource twice once
// conditional targets are known (FHIR: "the transaction SHALL fail").
func checkOverlap(ws []work, m mode) error {
	if len(ws) < 2 {
		return nil
	}
	seen := make(map[string]*work, len(ws))
	for i := range ws {
		w := &ws[i]
		if w.e.Method == http.MethodGet || w.id == "" || w.found {
			continue
		}
		k := w.e.Type + "/" + w.id
		if other, dup := seen[k]; dup {
			return fhir.Errorf(fhir.Invalid, fhir.IssueDuplicate, expr(w.e, "request"),
				"this entry and Bundle.entry[%d] both change %s; a transaction may change a resource only once", other.e.Index, k)
		}
		seen[k] = w
	}
	return nil
}

// resolveReferences rewrites references to fullUrls of other entries, and
// conditional references, to literal references.
func (g *Gateway) resolveReferences(ctx context.Context, tx store.Tx, ws []work, w *work, fullURLs map[string]string, m mode) error {
	return fhir.ForEachReference(&w.res, func(path string, ref *fhir.Value) error {
		s := ref.Str("reference")
		if s == "" {
			return nil
		}
		where := expr(w.e, "resource"+trimType(path)+".reference")
		if target, ok := fullURLs[s]; ok {
			ref.Set("reference", fhir.String(target))
			return nil
		}
		parsed := fhir.ParseReference(s)
		switch parsed.Kind {
		case fhir.RefUUID:
			switch m {
			case transaction:
				return fhir.Errorf(fhir.Unprocessable, fhir.IssueNotFound, where,
					"%q is not the fullUrl of any entry in this Bundle", s)
			case batchEntry:
				return fhir.Errorf(fhir.Unprocessable, fhir.IssueNotSupported, where,
					"%q refers to another entry, but batch entries are processed independently; use a transaction", s)
			}
		case fhir.RefConditional:
			if !fhir.Served(parsed.Type) {
				return fhir.Errorf(fhir.Unprocessable, fhir.IssueNotSupported, where,
					"conditional reference %q names a resource type this server does not hold", s)
			}
			params, err := url.ParseQuery(parsed.Query)
			if err != nil || len(params) == 0 {
				return fhir.Errorf(fhir.Invalid, fhir.IssueValue, where, "conditional reference %q has no valid search", s)
			}
			ids, err := g.search(ctx, tx, ws, parsed.Type, params, where)
			if err != nil {
				return err
			}
			switch len(ids) {
			case 1:
				ref.Set("reference", fhir.String(parsed.Type+"/"+ids[0]))
			case 0:
				return fhir.Errorf(fhir.PreconditionFailed, fhir.IssueNotFound, where,
					"no %s matches the conditional reference %q", parsed.Type, s)
			default:
				return fhir.Errorf(fhir.PreconditionFailed, fhir.IssueMultipleMatches, where,
					"more than one %s matches the conditional reference %q", parsed.Type, s)
			}
		}
		return nil
	})
}

// trimType turns "Observation.subject" into ".subject".
func trimType(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '.' || path[i] == '[' {
			return path[i:]
		}
	}
	return ""
}

// currentVersions reads the current version of every resource a PUT or
// DELETE targets, one query per type.
func currentVersions(ctx context.Context, tx store.Tx, ws []work) (map[string]store.Current, error) {
	byType := make(map[string][]string)
	for i := range ws {
		w := &ws[i]
		if w.create || w.found || w.skip || w.id == "" {
			continue
		}
		if w.e.Method == http.MethodPut || w.e.Method == http.MethodDelete {
			byType[w.e.Type] = append(byType[w.e.Type], w.id)
		}
	}
	out := make(map[string]store.Current)
	for typ, ids := range byType {
		cur, err := tx.Current(ctx, typ, ids)
		if err != nil {
			return nil, err
		}
		for id, c := range cur {
			out[typ+"/"+id] = c
		}
	}
	return out, nil
}

// newVersion builds the Write for one POST, PUT or DELETE entry and its
// result. ok is false when nothing needs writing.
func (g *Gateway) newVersion(ctx context.Context, tx store.Tx, w *work, cur store.Current, now time.Time, m mode) (store.Write, bool, error) {
	exists := cur.VersionID > 0
	if w.e.IfMatch != 0 && (!exists || cur.Deleted || cur.VersionID != w.e.IfMatch) {
		have := "does not exist"
		if exists && !cur.Deleted {
			have = "is at version " + strconv.FormatInt(cur.VersionID, 10)
		} else if cur.Deleted {
			have = "has been deleted"
		}
		return store.Write{}, false, fhir.Errorf(fhir.PreconditionFailed, fhir.IssueConflict, expr(w.e, "request.ifMatch"),
			"If-Match asks for version %d, but %s/%s %s", w.e.IfMatch, w.e.Type, w.id, have)
	}
	if w.e.Method == http.MethodDelete {
		if w.skip || !exists || cur.Deleted {
			w.result = EntryResult{Status: http.StatusNoContent}
			if !w.skip {
				w.result.Issues = []fhir.Issue{{Severity: fhir.SeverityInformation, Code: fhir.IssueNotFound,
					Diagnostics: w.e.Type + "/" + w.id + " does not exist or is already deleted; nothing changed"}}
			}
			return store.Write{}, false, nil
		}
		if err := checkWriter(ctx, tx, w, cur); err != nil {
			return store.Write{}, false, err
		}
		if w.e.Type == "Task" {
			if err := g.checkTask(ctx, tx, w, nil); err != nil {
				return store.Write{}, false, err
			}
		}
		wr := store.Write{Type: w.e.Type, ID: w.id, VersionID: cur.VersionID + 1, LastUpdated: now, Method: http.MethodDelete, Deleted: true}
		w.result = EntryResult{Status: http.StatusNoContent, Resource: resourceOf(wr)}
		return wr, true, nil
	}
	if err := stampSource(ctx, w); err != nil {
		return store.Write{}, false, err
	}
	if err := checkWriter(ctx, tx, w, cur); err != nil {
		return store.Write{}, false, err
	}
	if w.e.Type == "Subscription" {
		if err := g.prepareSubscription(ctx, tx, w, cur); err != nil {
			return store.Write{}, false, err
		}
	}
	version, status := int64(1), http.StatusCreated
	var stored []byte // the body of the current version this one replaces
	if exists {
		version = cur.VersionID + 1
		if !cur.Deleted {
			status = http.StatusOK
			// An update that changes nothing makes no new version.
			same, r, err := g.unchanged(ctx, tx, w, cur)
			if err != nil {
				return store.Write{}, false, err
			}
			if same {
				w.result = EntryResult{Status: http.StatusOK, Resource: r, Issues: []fhir.Issue{{
					Severity: fhir.SeverityInformation, Code: fhir.IssueInformational,
					Diagnostics: "the resource is unchanged; no new version was made",
				}}}
				return store.Write{}, false, nil
			}
			stored = r.Body
		}
	}
	if w.e.Type == "Task" {
		if err := g.checkTask(ctx, tx, w, stored); err != nil {
			return store.Write{}, false, err
		}
	}
	fhir.Stamp(&w.res, w.id, version, now)
	ix, err := fhir.ExtractIndex(w.e.Type, w.res, g.loc)
	if err != nil {
		return store.Write{}, false, err
	}
	if w.e.Type == "Task" && stored == nil {
		if err := checkTaskRequester(ctx, tx, w, ix); err != nil {
			return store.Write{}, false, err
		}
	}
	wr := store.Write{
		Type: w.e.Type, ID: w.id, VersionID: version, LastUpdated: now,
		Method: w.e.Method, Body: w.res.AppendJSON(nil), Index: ix,
	}
	w.result = EntryResult{Status: status, Resource: resourceOf(wr)}
	return wr, true, nil
}

// unchanged reports whether w's resource equals the current version, apart
// from versionId and lastUpdated.
func (g *Gateway) unchanged(ctx context.Context, tx store.Tx, w *work, cur store.Current) (bool, store.Resource, error) {
	r, err := tx.Read(ctx, w.e.Type, w.id)
	if err != nil {
		return false, r, err
	}
	probe := w.res.Clone()
	fhir.Stamp(&probe, w.id, cur.VersionID, cur.LastUpdated)
	return bytes.Equal(probe.AppendJSON(nil), r.Body), r, nil
}

func resourceOf(w store.Write) store.Resource {
	return store.Resource{
		Type: w.Type, ID: w.ID, VersionID: w.VersionID, LastUpdated: w.LastUpdated,
		Method: w.Method, Deleted: w.Deleted, Body: w.Body,
	}
}

// get runs a GET entry: read, vread or search.
func (g *Gateway) get(ctx context.Context, tx store.Tx, w *work) error {
	e := w.e
	switch {
	case e.Query != nil:
		q, warnings, err := fhir.ParseQuery(e.Type, e.Query, g.queryOptions(false))
		if err != nil {
			if fe, ok := err.(*fhir.Error); ok {
				return withExpression(fe, expr(e, "request.url"))
			}
			return err
		}
		res, err := tx.Search(ctx, q, viewerOf(ctx, e.Type))
		if err != nil {
			return err
		}
		w.result = EntryResult{Status: http.StatusOK, Search: &SearchPage{Query: q, Result: res, Warnings: warnings}}
	default:
		var r store.Resource
		err := checkVisible(ctx, tx, e.Type, e.ID)
		if err == nil {
			r, err = tx.Read(ctx, e.Type, e.ID)
			if e.Version != 0 {
				r, err = g.store.VRead(ctx, e.Type, e.ID, e.Version)
			}
		}
		if err != nil {
			fe := fhir.AsError(notFoundText(err, e.Type, e.ID))
			return withExpression(fe, expr(e, "request.url"))
		}
		w.result = EntryResult{Status: http.StatusOK, Resource: r}
	}
	return nil
}

// entryInteraction is the interaction an entry asks for, as scopes name it.
func entryInteraction(e *fhir.Entry) string {
	switch e.Method {
	case http.MethodPost:
		return InteractionCreate
	case http.MethodPut:
		return InteractionUpdate
	case http.MethodDelete:
		return InteractionDelete
	case http.MethodGet:
		if e.Query != nil {
			return InteractionSearch
		}
	}
	return InteractionRead
}
