package adapter

import (
	"context"

	"github.com/carebridge/carebridge/adapter/taskflow"
)

// Actor is who makes a change through the Gateway: an organisation, by its
// ODS code, acting through a client system, or the gateway's own
// automation. A request without an Actor in its context is from someone not
// known: the Task workflow then applies its rules on transitions and
// content, but cannot apply those on who may make a change.
type Actor struct {
	// ODS is the ODS code of the organisation acting.
	ODS string
	// System marks the gateway's own automation, such as the health check.
	System bool
}

// actorKey is the context key of the Actor.
type actorKey struct{}

// WithActor returns a context that carries a as the one acting.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the Actor ctx carries, and false when it carries none.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// taskActor is a as the Task workflow sees it.
func (a Actor) taskActor() taskflow.Actor {
	return taskflow.Actor{ODS: a.ODS, System: a.System}
}
