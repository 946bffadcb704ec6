package adapter

import (
	"context"
	"errors"
	"net/http"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// checkTask applies the Task workflow (package taskflow) to a Task entry
// before its version is built, for the Actor ctx carries. stored is the
// body of the current version of the Task a PUT writes over, nil when the
// Task is new or deleted; a DELETE reads it here. Refusals point at the
// entry.
func (g *Gateway) checkTask(ctx context.Context, tx store.Tx, w *work, stored []byte) error {
	actor, _ := ActorFrom(ctx)
	a := actor.taskActor()
	var err error
	switch {
	case w.e.Method == http.MethodDelete:
		var r store.Resource
		if r, err = tx.Read(ctx, w.e.Type, w.id); err != nil {
			return err
		}
		var cur taskflow.Version
		if cur, err = storedTask(ctx, tx, r.Body, a); err == nil {
			err = taskflow.Delete(cur, a)
		}
	case stored == nil:
		err = taskflow.Create(taskflow.Read(w.res))
	default:
		var cur taskflow.Version
		if cur, err = storedTask(ctx, tx, stored, a); err == nil {
			err = taskflow.Update(cur, taskflow.Read(w.res), a)
		}
	}
	fe, ok := errors.AsType[*fhir.Error](err)
	if !ok || fe.Kind == fhir.Internal || w.e.Index < 0 {
		return err
	}
	if w.e.Method == http.MethodDelete {
		return withExpression(fe, w.e.Expr("request"))
	}
	return fe.WithPrefix(w.e.Expr("resource"))
}

// storedTask reads the stored version of a Task for the workflow. When a
// is an organisation, the owner and requester the Task names by literal
// Organization reference are resolved to the ODS codes the shared-care
// projection knows, so that a can be compared with them.
func storedTask(ctx context.Context, tx store.Tx, body []byte, a taskflow.Actor) (taskflow.Version, error) {
	task, err := fhir.ParseJSON(body)
	if err != nil {
		return taskflow.Version{}, fhir.Wrap(err, "reading the stored Task")
	}
	v := taskflow.Read(task)
	if a.ODS == "" {
		return v, nil
	}
	orgs := &txResolver{tx: tx, orgs: map[string]string{}}
	for _, p := range []*taskflow.Party{&v.Owner, &v.Requester} {
		if p.ODS != "" || p.Organization == "" {
			continue
		}
		if p.ODS, _, err = orgs.OrganizationODS(ctx, p.Organization); err != nil {
			return v, err
		}
	}
	return v, nil
}
