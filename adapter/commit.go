package adapter

import (
	"context"
	"sync"

	"github.com/carebridge/carebridge/adapter/store"
)

// put stores new versions in tx. Every version the Gateway writes, from a
// sender or from its own health check automation, goes through it, so that
// what must commit with a version (its change feed entries, the
// notifications it triggers, who may see it) is written in one place.
// writer is the ODS code of the organisation that makes the change, ""
// for the gateway's own automation or a request without one.
func (g *Gateway) put(ctx context.Context, tx store.Tx, writer string, writes []store.Write) error {
	if err := grant(ctx, tx, writer, writes); err != nil {
		return err
	}
	replaced, err := replacedTasks(ctx, tx, writes)
	if err != nil {
		return err
	}
	if err := tx.Put(ctx, writes); err != nil {
		return err
	}
	if err := putTaskFeed(ctx, tx, writes, replaced); err != nil {
		return err
	}
	return g.notify(ctx, tx, writes)
}

// transact runs fn in one store transaction and, once it has committed,
// tells whoever waits on Committed, and on Queued when it queued
// notifications.
func (g *Gateway) transact(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	ctx, queued := withQueued(ctx)
	err := g.store.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
		queued.reset() // fn may run again
		return fn(ctx, tx)
	})
	if err != nil {
		return err
	}
	g.commits.signal()
	if queued.any {
		g.queued.signal()
	}
	return nil
}

// Committed returns a channel that is closed when the next write
// transaction of this Gateway commits: long polls and outbound delivery
// wait on it instead of asking the database again and again. Another
// gateway's commits on a shared database do not close it, so waiters must
// also look again now and then.
func (g *Gateway) Committed() <-chan struct{} { return g.commits.wait() }

// broadcast wakes every waiter at once: wait returns a channel that the
// next signal closes.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) signal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
