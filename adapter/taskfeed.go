package adapter

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The Task change feed: every committed Task version, under the key of
// each organisation (or other owner) that must hear of it, in commit order,
// read by polling with a cursor (Gateway.TaskChanges). put writes the feed
// rows of the Task versions it stores, in their transaction:
//
//   - a version is in the feed of each owner key of its owner reference:
//     "system|value" for its identifier, "Type/id" for a literal
//     reference (plus, for a literal reference, "system|value" of each
//     identifier its target has at the time), the URL of an absolute one;
//   - a version that moves the Task from one owner to another is in the
//     feeds of both, so that the old owner learns the Task left;
//   - a delete is in the feeds of the owners of the version it deletes,
//     with that version's status.

// MaxChangesWait bounds how long TaskChanges waits for a change.
const MaxChangesWait = 60 * time.Second

// changesRecheck is how often a waiting TaskChanges looks again without
// being woken: for commits of other gateways on a shared database, and
// for changes the PostgreSQL horizon held back.
const changesRecheck = time.Second

// taskOwner is one owner key of a Task version; target is set for a
// literal reference, whose target's identifiers are keys too.
type taskOwner struct {
	key    string
	target [2]string // type, id
}

// taskState is what the feed needs of a Task version: its owners and
// status.
type taskState struct {
	owners []taskOwner
	status string
}

// stateOf reads a Task version's owners and status from its index.
func stateOf(ix *fhir.Index) taskState {
	var s taskState
	if ix == nil {
		return s
	}
	for _, t := range ix.Tokens {
		if t.Param == "status" {
			s.status = t.Code
		}
	}
	for _, e := range ix.References {
		if e.Param != "owner" {
			continue
		}
		if e.TargetType != "" && e.TargetID != "" {
			s.owners = append(s.owners, taskOwner{key: e.TargetType + "/" + e.TargetID, target: [2]string{e.TargetType, e.TargetID}})
		}
		if e.URL != "" {
			s.owners = append(s.owners, taskOwner{key: e.URL})
		}
		if e.IdentifierValue != "" {
			s.owners = append(s.owners, taskOwner{key: e.IdentifierSystem + "|" + e.IdentifierValue})
		}
	}
	return s
}

// replacedTasks reads the owners and status of the current versions of the
// Tasks that writes replace, before they are put.
func replacedTasks(ctx context.Context, tx store.Tx, writes []store.Write) (map[string]taskState, error) {
	var ids []string
	for i := range writes {
		if w := &writes[i]; w.Type == "Task" && w.VersionID > 1 && !slices.Contains(ids, w.ID) {
			ids = append(ids, w.ID)
		}
	}
	out := make(map[string]taskState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ixs, err := tx.IndexEntries(ctx, "Task", ids, []string{"owner", "status"})
	if err != nil {
		return nil, err
	}
	for id, ix := range ixs {
		out[id] = stateOf(ix)
	}
	return out, nil
}

// putTaskFeed writes the feed rows of the Task versions among writes, which
// tx has just put; replaced holds what they replaced (replacedTasks).
func putTaskFeed(ctx context.Context, tx store.Tx, writes []store.Write, replaced map[string]taskState) error {
	type version struct {
		w      *store.Write
		status string
		owners []taskOwner
	}
	var versions []version
	targets := make(map[string][]string) // type -> ids of literal owners
	for i := range writes {
		w := &writes[i]
		if w.Type != "Task" {
			continue
		}
		before := replaced[w.ID]
		var now taskState
		if !w.Deleted {
			now = stateOf(w.Index)
		}
		v := version{w: w, status: now.status}
		if w.Deleted {
			v.status = before.status
		}
		v.owners = append(slices.Clip(now.owners), before.owners...) // the old owners hear it left
		for _, o := range v.owners {
			if o.target[1] != "" && !slices.Contains(targets[o.target[0]], o.target[1]) {
				targets[o.target[0]] = append(targets[o.target[0]], o.target[1])
			}
		}
		versions = append(versions, v)
		replaced[w.ID] = now // a later write of the same Task replaces this one
	}
	if len(versions) == 0 {
		return nil
	}
	identifiers := make(map[[2]string][]string) // literal target -> its "system|value" keys
	for typ, ids := range targets {
		ixs, err := tx.IndexEntries(ctx, typ, ids, []string{"identifier"})
		if err != nil {
			return err
		}
		for id, ix := range ixs {
			for _, t := range ix.Tokens {
				identifiers[[2]string{typ, id}] = append(identifiers[[2]string{typ, id}], t.System+"|"+t.Code)
			}
		}
	}
	var rows []store.TaskFeedRow
	for _, v := range versions {
		var keys []string
		for _, o := range v.owners {
			keys = append(keys, o.key)
			keys = append(keys, identifiers[o.target]...)
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			rows = append(rows, store.TaskFeedRow{Owner: k, ID: v.w.ID, VersionID: v.w.VersionID, Status: v.status})
		}
	}
	return tx.PutTaskFeed(ctx, rows)
}

// taskStatuses are the codes of FHIR R4 task-status.
var taskStatuses = []string{"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
	"in-progress", "on-hold", "failed", "completed", "entered-in-error"}

// TaskChangesPage is one page of an owner's Task change feed.
type TaskChangesPage struct {
	Owner    string   // the owner key
	Statuses []string // the statuses asked for; all when empty
	Count    int
	Cursor   string // where the page starts; "" for the beginning
	Next     string // the cursor to send for the next page
	Changes  []store.TaskFeedEntry
	More     bool // more changes are waiting: ask again at once
}

// TaskChanges returns the Task versions of one owner committed after a
// cursor, in commit order: every change exactly once to a caller that
// always sends the Next of its last page, whatever order concurrent
// transactions commit in. Parameters: owner (required: an identifier
// "system|value" or a reference "Organization/id"), status (a
// comma-separated list of task-status codes), cursor (from a previous
// page; none to start at the beginning) and _count.
//
// When the page is empty, TaskChanges waits for a change until waitCtx
// ends (not at all when it has ended), looking again at each commit of this
// Gateway and every second; an empty page then says so, with a Next to
// continue from. When ctx ends it returns ctx's error.
func (g *Gateway) TaskChanges(ctx context.Context, params url.Values, waitCtx context.Context) (TaskChangesPage, error) {
	page, q, err := g.parseTaskChanges(params)
	if err != nil {
		return page, err
	}
	if err := allow(ctx, "Task", InteractionSearch, ""); err != nil {
		return page, err
	}
	if a, ok := organisation(ctx); ok && q.Owner != fhir.SystemODSCode+"|"+a.ODS {
		return page, fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, "owner",
			"a client follows the Tasks of its own organisation only: owner=%s|%s", fhir.SystemODSCode, a.ODS)
	}
	recheck := time.NewTicker(changesRecheck)
	defer recheck.Stop()
	for {
		committed := g.Committed() // before reading: a commit after the read wakes us
		res, err := g.store.TaskFeed(ctx, q)
		if err != nil {
			return page, err
		}
		q.After = res.Next
		if len(res.Entries) > 0 || waitCtx.Err() != nil {
			page.Changes, page.More = res.Entries, res.More
			page.Next = fhir.EncodeChangeCursor(q.After.Txid, uint64(q.After.Seq))
			read := make([]store.Resource, 0, len(res.Entries))
			for _, e := range res.Entries {
				if !e.Version.Deleted {
					read = append(read, e.Version)
				}
			}
			return page, g.auditRead(ctx, "operation", "Task", "", params, read)
		}
		select {
		case <-ctx.Done():
			return page, fhir.Wrap(ctx.Err(), "wait for Task changes")
		case <-waitCtx.Done():
		case <-committed:
		case <-recheck.C:
		}
	}
}

// parseTaskChanges reads the parameters of TaskChanges.
func (g *Gateway) parseTaskChanges(params url.Values) (TaskChangesPage, store.TaskFeedQuery, error) {
	page := TaskChangesPage{Count: g.count.def}
	var q store.TaskFeedQuery
	for name, vals := range params {
		if len(vals) > 1 && name != "_format" && name != "_pretty" {
			return page, q, fhir.Errorf(fhir.Invalid, fhir.IssueValue, name, "give %s once", name)
		}
		v := vals[0]
		switch name {
		case "owner":
			key, err := ownerKey(v)
			if err != nil {
				return page, q, err
			}
			page.Owner = key
		case "status":
			for _, s := range strings.Split(v, ",") {
				if !slices.Contains(taskStatuses, s) {
					return page, q, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "status",
						"%q is not a Task status; use codes of http://hl7.org/fhir/task-status such as requested,accepted", s)
				}
				if !slices.Contains(page.Statuses, s) {
					page.Statuses = append(page.Statuses, s)
				}
			}
		case "cursor":
			txid, seq, err := fhir.DecodeChangeCursor("cursor", v)
			if err != nil {
				return page, q, err
			}
			page.Cursor, q.After = v, store.ChangeCursor{Txid: txid, Seq: int64(seq)}
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return page, q, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "_count", "_count must be a positive whole number, not %q", v)
			}
			page.Count = min(n, g.count.max)
		case "_format", "_pretty":
		default:
			return page, q, fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, name,
				"parameter %q is not supported by $changes; use owner, status, cursor and _count", name)
		}
	}
	if page.Owner == "" {
		return page, q, fhir.Errorf(fhir.Invalid, fhir.IssueRequired, "owner",
			"owner is required: the organisation whose Tasks to follow, as an identifier (https://fhir.nhs.uk/Id/ods-organization-code|A81001) or a reference (Organization/123)")
	}
	q.Owner, q.Statuses, q.Count = page.Owner, page.Statuses, page.Count
	return page, q, nil
}

// ownerKey returns the feed key of an owner parameter: "system|value" for
// an identifier, "Type/id" for a relative reference, the URL for an
// absolute one.
func ownerKey(v string) (string, error) {
	if system, value, ok := strings.Cut(v, "|"); ok {
		if value == "" {
			return "", fhir.Errorf(fhir.Invalid, fhir.IssueValue, "owner", "owner %q has a system but no value", v)
		}
		return system + "|" + value, nil
	}
	switch r := fhir.ParseReference(v); r.Kind {
	case fhir.RefRelative:
		if r.Version == "" {
			return r.Type + "/" + r.ID, nil
		}
	case fhir.RefAbsolute:
		return v, nil
	}
	return "", fhir.Errorf(fhir.Invalid, fhir.IssueValue, "owner",
		"owner %q is neither an identifier (https://fhir.nhs.uk/Id/ods-organization-code|A81001) nor a reference (Organization/123)", v)
}
