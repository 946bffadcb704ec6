package adapter

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// Subscriptions (R4, rest-hook). A Subscription is a stored resource like
// any other, except for two elements the server owns: status and error.
// Every new version the Gateway writes is matched, in its transaction,
// against the criteria of the active Subscriptions, and each match becomes
// an outbox entry that commits with the version (adapter/delivery sends it
// after the commit).

// prepareSubscription decides the status a sender's Subscription is stored
// with, and sets it in w.res: requested and active become active,
// off stays off (the error removed either way); error, which only the
// gateway sets, keeps the stored status and error when the stored
// Subscription is in error, and is read as active otherwise. The rest of
// the Subscription must be one CareBridge can run (fhir.ReadSubscription).
func (g *Gateway) prepareSubscription(ctx context.Context, tx store.Tx, w *work, cur store.Current) error {
	sub, err := fhir.ReadSubscription(w.res, g.loc)
	if err != nil {
		return entryIssues(fhir.AsError(err), w.e)
	}
	if err := checkSubscriber(ctx, w, sub.Criteria); err != nil {
		return err
	}
	status := w.res.Str("status")
	switch status {
	case fhir.SubscriptionRequested, fhir.SubscriptionActive:
		status = fhir.SubscriptionActive
	case fhir.SubscriptionError:
		status = fhir.SubscriptionActive
		if cur.VersionID > 0 && !cur.Deleted {
			stored, err := g.storedSubscription(ctx, tx, w.id)
			if err != nil {
				return err
			}
			if stored.Str("status") == fhir.SubscriptionError {
				w.res.Set("status", fhir.String(fhir.SubscriptionError))
				if reason, ok := stored.Get("error"); ok {
					w.res.Set("error", reason)
				}
				return nil
			}
		}
	}
	w.res.Set("status", fhir.String(status))
	w.res.Delete("error")
	return nil
}

// entryIssues points the issues of a resource's validation at the entry
// that holds the resource.
func entryIssues(e *fhir.Error, entry *fhir.Entry) *fhir.Error {
	out := &fhir.Error{Kind: e.Kind, Err: e.Err, Issues: make([]fhir.Issue, len(e.Issues))}
	for i, is := range e.Issues {
		is.Expression = expr(entry, "resource"+trimType(is.Expression))
		out.Issues[i] = is
	}
	return out
}

// storedSubscription reads the current version of Subscription/id in tx.
func (g *Gateway) storedSubscription(ctx context.Context, tx store.Tx, id string) (fhir.Value, error) {
	r, err := tx.Read(ctx, "Subscription", id)
	if err != nil {
		return fhir.Value{}, err
	}
	res, err := fhir.ParseJSON(r.Body)
	if err != nil {
		return fhir.Value{}, fmt.Errorf("read Subscription/%s: %w", id, err)
	}
	return res, nil
}

// setSubscriptionStatus makes the gateway's change to a Subscription's
// status: error with a reason after a notification is given up, active
// again after one is delivered. It writes a new version, built on the
// current one inside tx, so a sender's concurrent update is never lost; a
// Subscription that is gone or off, or already in that state with that
// reason, is left as it is.
func (g *Gateway) setSubscriptionStatus(ctx context.Context, tx store.Tx, id, status, reason string) error {
	cur, err := tx.Current(ctx, "Subscription", []string{id})
	if err != nil {
		return err
	}
	c, ok := cur[id]
	if !ok || c.Deleted {
		return nil
	}
	res, err := g.storedSubscription(ctx, tx, id)
	if err != nil {
		return err
	}
	switch old := res.Str("status"); {
	case old != fhir.SubscriptionActive && old != fhir.SubscriptionError:
		return nil
	case old == status && res.Str("error") == reason:
		return nil
	}
	res.Set("status", fhir.String(status))
	if reason != "" {
		res.Set("error", fhir.String(reason))
	} else {
		res.Delete("error")
	}
	now := g.now().UTC().Truncate(time.Millisecond)
	fhir.Stamp(&res, id, c.VersionID+1, now)
	ix, err := fhir.ExtractIndex("Subscription", res, g.loc)
	if err != nil {
		return fmt.Errorf("index Subscription/%s: %w", id, err)
	}
	return g.put(ctx, tx, g.orgOfSource(get(res, "meta").Str("source")), []store.Write{{
		Type: "Subscription", ID: id, VersionID: c.VersionID + 1, LastUpdated: now,
		Method: http.MethodPut, Body: res.AppendJSON(nil), Index: ix,
	}})
}

// notify adds to tx's outbox one entry for each pair of a new version (not
// a deletion) and an active Subscription (or one in error) whose criteria
// it matches. It is called by put, for every version the Gateway writes.
func (g *Gateway) notify(ctx context.Context, tx store.Tx, writes []store.Write) error {
	subs, err := g.subs.running(ctx, tx, g.loc)
	if err != nil || len(subs) == 0 {
		return err
	}
	now := g.now().UTC().Truncate(time.Millisecond)
	var entries []store.OutboxEntry
	for i := range writes {
		w := &writes[i]
		if w.Deleted {
			continue
		}
		for _, s := range subs {
			if s.sub.Criteria.Type != w.Type || (!s.sub.End.IsZero() && !now.Before(s.sub.End)) {
				continue
			}
			if s.sub.Criteria.Matches(w.ID, w.LastUpdated, w.Index) {
				entries = append(entries, store.OutboxEntry{
					ID: newUUID(), Subscription: s.id, SubscriptionVersion: s.version,
					Type: w.Type, ResourceID: w.ID, ResourceVersion: w.VersionID,
					Created: now, State: store.OutboxPending, NextAttempt: now,
				})
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	markQueued(ctx)
	return tx.AddOutbox(ctx, entries)
}

// runningSubscription is a stored Subscription version that notifications
// are made for.
type runningSubscription struct {
	id      string
	version int64
	body    []byte // as stored: a version seen in a transaction that rolled back may come again with another body
	status  string
	sub     *fhir.Subscription
}

// subscriptions keeps the parsed Subscriptions by version, so that a write
// reads which Subscriptions there are (one small statement in its
// transaction, which sees Subscriptions committed by any gateway) but
// parses each version once.
type subscriptions struct {
	mu     sync.Mutex
	parsed map[string]*runningSubscription // by "id/version"
}

// running returns the Subscriptions in tx that are active or in error.
func (s *subscriptions) running(ctx context.Context, tx store.Tx, loc *time.Location) ([]*runningSubscription, error) {
	found, err := tx.Subscriptions(ctx)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.parsed) > 2*len(found)+16 {
		clear(s.parsed)
	}
	out := make([]*runningSubscription, 0, len(found))
	for _, r := range found {
		rs := s.parseLocked(r, loc)
		if rs != nil && (rs.status == fhir.SubscriptionActive || rs.status == fhir.SubscriptionError) {
			out = append(out, rs)
		}
	}
	return out, nil
}

// parse returns the stored Subscription version r, parsed; nil when it
// cannot run.
func (s *subscriptions) parse(r store.Resource, loc *time.Location) *runningSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parseLocked(r, loc)
}

func (s *subscriptions) parseLocked(r store.Resource, loc *time.Location) *runningSubscription {
	if s.parsed == nil {
		s.parsed = make(map[string]*runningSubscription)
	}
	key := r.ID + "/" + strconv.FormatInt(r.VersionID, 10)
	rs, ok := s.parsed[key]
	if !ok || !bytes.Equal(rs.body, r.Body) {
		rs = parseRunning(r, loc)
		s.parsed[key] = rs
	}
	if rs.sub == nil {
		return nil
	}
	return rs
}

// parseRunning reads a stored Subscription; its sub is nil when it cannot
// run, which a Subscription the Gateway stored can only be if the rules
// changed since.
func parseRunning(r store.Resource, loc *time.Location) *runningSubscription {
	rs := &runningSubscription{id: r.ID, version: r.VersionID, body: bytes.Clone(r.Body)}
	res, err := fhir.ParseJSON(r.Body)
	if err != nil {
		return rs
	}
	rs.status = res.Str("status")
	rs.sub, _ = fhir.ReadSubscription(res, loc)
	return rs
}
