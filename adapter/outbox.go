package adapter

import (
	"context"
	"fmt"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The notification outbox: what a delivery worker claims, how an attempt
// is recorded, and the dead-letter list with its redrive. The worker
// (adapter/delivery) decides when to try again and when to give up; the
// Gateway keeps the outbox and the Subscriptions' status in step, in one
// transaction per attempt.

// Queued returns a channel that is closed when the next write transaction
// of this Gateway that queued notifications (new ones, or dead ones
// redriven) commits: a delivery worker waits on it, so that commits that
// notify no one do not wake it. Other gateways' commits do not close it.
func (g *Gateway) Queued() <-chan struct{} { return g.queued.wait() }

// queuedKey keys a transaction's queuedFlag in its context.
type queuedKey struct{}

// queuedFlag says whether a transaction queued notifications.
type queuedFlag struct{ any bool }

func (f *queuedFlag) reset() { f.any = false }

// withQueued returns ctx carrying a new flag for one transaction.
func withQueued(ctx context.Context) (context.Context, *queuedFlag) {
	f := &queuedFlag{}
	return context.WithValue(ctx, queuedKey{}, f), f
}

// markQueued records that the transaction of ctx queued notifications.
func markQueued(ctx context.Context) {
	if f, ok := ctx.Value(queuedKey{}).(*queuedFlag); ok {
		f.any = true
	}
}

// Notification is an outbox entry claimed for delivery, with what
// delivering it needs.
type Notification struct {
	Entry store.OutboxEntry
	// Subscription is the current version of the entry's Subscription;
	// nil when the notification cannot be delivered, and Undeliverable
	// says why (the Subscription was deleted or turned off).
	Subscription  *fhir.Subscription
	Undeliverable string
	// InError says the Subscription is in error, so that a delivery puts
	// it back to active.
	InError bool
	// Body is the resource version that matched, when the Subscription's
	// payload asks for it; nil otherwise.
	Body []byte
}

// ClaimNotifications leases up to limit due notifications to holder for
// lease and reads what delivering them needs: each Subscription once, and
// the matched versions their payloads ask for. Several gateways on one
// database never hold one notification at once. When a read fails, the
// claimed notifications wait for their leases to end.
func (g *Gateway) ClaimNotifications(ctx context.Context, holder string, lease time.Duration, limit int) ([]Notification, error) {
	now := g.now().UTC()
	entries, err := g.store.ClaimOutbox(ctx, holder, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	subs := make(map[string]Notification, len(entries)) // by Subscription id: what all its notifications share
	out := make([]Notification, len(entries))
	for i, e := range entries {
		n, ok := subs[e.Subscription]
		if !ok {
			if n, err = g.readSubscription(ctx, e.Subscription); err != nil {
				return nil, err
			}
			subs[e.Subscription] = n
		}
		n.Entry = e
		if n.Subscription != nil && n.Subscription.Payload != "" {
			v, err := g.store.VRead(ctx, e.Type, e.ResourceID, e.ResourceVersion)
			if err != nil {
				return nil, fmt.Errorf("read %s/%s/_history/%d: %w", e.Type, e.ResourceID, e.ResourceVersion, err)
			}
			n.Body = v.Body
		}
		out[i] = n
	}
	return out, nil
}

// readSubscription returns what the notifications of Subscription/id
// share: the Subscription and whether it is in error, or why they cannot
// be delivered.
func (g *Gateway) readSubscription(ctx context.Context, id string) (Notification, error) {
	var n Notification
	r, err := g.store.Read(ctx, "Subscription", id)
	switch fhir.KindOf(err) {
	case fhir.NotFound, fhir.Gone:
		n.Undeliverable = "Subscription/" + id + " has been deleted"
		return n, nil
	}
	if err != nil {
		return n, fmt.Errorf("read Subscription/%s: %w", id, err)
	}
	switch rs := g.subs.parse(r, g.loc); {
	case rs == nil:
		n.Undeliverable = "Subscription/" + id + " cannot be run"
	case rs.status == fhir.SubscriptionOff:
		n.Undeliverable = "Subscription/" + id + " is off"
	default:
		n.Subscription, n.InError = rs.sub, rs.status == fhir.SubscriptionError
	}
	return n, nil
}

// Attempt is how a delivery attempt at a notification ended.
type Attempt struct {
	Notification *Notification
	Holder       string // the lease holder that claimed the notification
	// State is Delivered; Pending to try again after Retry; or Dead to
	// give up.
	State store.OutboxState
	Retry time.Duration
	Error string // why the attempt failed; "" when delivered
}

// RecordAttempts records attempts in one transaction: each one's outbox
// entry, and its Subscription's status when that changes (error, with the
// attempt's Error as the reason, when a notification of a running
// Subscription is given up; active again when one of a Subscription in
// error is delivered). It reports, for each attempt, whether it counted:
// false when its holder's lease was lost to another holder, which records
// nothing. It also returns the time the attempts were recorded.
func (g *Gateway) RecordAttempts(ctx context.Context, attempts []Attempt) ([]bool, time.Time, error) {
	recorded := make([]bool, len(attempts))
	var at time.Time
	err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
		at = g.now().UTC()
		for i, a := range attempts {
			var err error
			if recorded[i], err = g.recordAttempt(ctx, tx, a, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, at, fmt.Errorf("record %d delivery attempts: %w", len(attempts), err)
	}
	return recorded, at, nil
}

func (g *Gateway) recordAttempt(ctx context.Context, tx store.Tx, a Attempt, at time.Time) (bool, error) {
	n := a.Notification
	recorded, err := tx.RecordAttempt(ctx, store.OutboxAttempt{
		ID: n.Entry.ID, Holder: a.Holder, State: a.State, At: at, NextAttempt: at.Add(a.Retry), Error: a.Error,
	})
	if err != nil || !recorded || n.Subscription == nil {
		return recorded, err
	}
	switch {
	case a.State == store.OutboxDead:
		err = g.setSubscriptionStatus(ctx, tx, n.Entry.Subscription, fhir.SubscriptionError, a.Error)
	case a.State == store.OutboxDelivered && n.InError:
		err = g.setSubscriptionStatus(ctx, tx, n.Entry.Subscription, fhir.SubscriptionActive, "")
	}
	return recorded, err
}

// OutboxPage is one page of the outbox.
type OutboxPage struct {
	Entries []store.OutboxEntry
	Next    string // the After of the next page; "" on the last page
}

// Outbox lists the notifications q selects, in id order (which is the
// order they were written in), a page of q.Count at a time.
func (g *Gateway) Outbox(ctx context.Context, q store.OutboxQuery) (OutboxPage, error) {
	switch q.State {
	case "", store.OutboxPending, store.OutboxDelivered, store.OutboxDead:
	default:
		return OutboxPage{}, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "state", "state must be pending, delivered or dead, not %q", q.State)
	}
	if q.Count <= 0 {
		q.Count = g.count.def
	}
	q.Count = min(q.Count, g.count.max)
	page := q
	page.Count++ // one more, to know whether there is a next page
	entries, err := g.store.ListOutbox(ctx, page)
	if err != nil {
		return OutboxPage{}, err
	}
	var out OutboxPage
	if len(entries) > q.Count {
		entries = entries[:q.Count]
		out.Next = entries[len(entries)-1].ID
	}
	out.Entries = entries
	return out, nil
}

// Redrive makes the dead notifications sel names pending again, from the
// first attempt, and returns them. sel names entries, a Subscription, or
// all, and only one of these.
func (g *Gateway) Redrive(ctx context.Context, sel store.OutboxSelection) ([]store.OutboxEntry, error) {
	named := 0
	for _, set := range []bool{len(sel.IDs) > 0, sel.Subscription != "", sel.All} {
		if set {
			named++
		}
	}
	if named != 1 {
		return nil, fhir.Errorf(fhir.Invalid, fhir.IssueRequired, "",
			"name the notifications to redrive: their ids, a Subscription, or all of them; one of these")
	}
	var out []store.OutboxEntry
	err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.Redrive(ctx, sel, g.now().UTC())
		if len(out) > 0 {
			markQueued(ctx)
		}
		return err
	})
	return out, err
}

// OutboxDepth counts the pending and the dead notifications.
func (g *Gateway) OutboxDepth(ctx context.Context) (map[store.OutboxState]int, error) {
	return g.store.CountOutbox(ctx)
}

// PruneOutbox deletes up to limit notifications delivered longer than
// retention ago, and returns how many.
func (g *Gateway) PruneOutbox(ctx context.Context, retention time.Duration, limit int) (int, error) {
	return g.store.PruneOutbox(ctx, g.now().UTC().Add(-retention), limit)
}
