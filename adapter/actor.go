package adapter

import (
	"context"

	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// Actor is who makes a request through the Gateway: an organisation, by its
// ODS code, acting through a client system, or the gateway's own
// automation. A request without an Actor in its context is from someone not
// known (a gateway run without authentication, or a command on the
// database): then nothing is restricted to an organisation, and the Task
// workflow applies its rules on transitions and content but cannot apply
// those on who may make a change.
type Actor struct {
	// ODS is the ODS code of the organisation acting.
	ODS string
	// System marks the gateway's own automation, such as the health check.
	System bool
	// Client is the id of the client system the organisation acts
	// through, for the audit trail.
	Client string
	// Side is the organisation's side of shared care: SidePrimary (a GP
	// practice) or SideSecondary (a mental health trust).
	Side string
	// Source is the meta.source the gateway stamps on what the client
	// writes: its mapping profile's source, then "#" and the client id.
	Source string
	// Scopes are the interactions the client's token allows; nil allows
	// every one.
	Scopes Permissions
}

// Permissions says which interactions (create, read, update, delete,
// search) on which resource types a client's scopes allow.
type Permissions interface {
	Allows(resourceType, interaction string) bool
}

// The interactions scopes allow.
const (
	InteractionCreate = "create"
	InteractionRead   = "read"
	InteractionUpdate = "update"
	InteractionDelete = "delete"
	InteractionSearch = "search"
)

// allow refuses, with 403, an interaction on typ that the scopes of the
// client acting in ctx do not allow. where points at the Bundle entry, if
// any.
func allow(ctx context.Context, typ, interaction, where string) error {
	a, ok := ActorFrom(ctx)
	if !ok || a.Scopes == nil || a.Scopes.Allows(typ, interaction) {
		return nil
	}
	return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, where,
		"the client's scopes do not allow %s on %s", interaction, typ)
}

// The sides of shared care an Actor's organisation can be on.
const (
	SidePrimary   = "primary"   // a GP practice
	SideSecondary = "secondary" // a mental health trust
)

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

// organisation returns the organisation acting, and false when the request
// is not bound to one (no Actor, or the gateway's own automation).
func organisation(ctx context.Context) (Actor, bool) {
	a, ok := ActorFrom(ctx)
	return a, ok && !a.System && a.ODS != ""
}

// taskActor is a as the Task workflow sees it.
func (a Actor) taskActor() taskflow.Actor {
	return taskflow.Actor{ODS: a.ODS, System: a.System}
}
