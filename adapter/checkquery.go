package adapter

import (
	"context"
	"fmt"
	"slices"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// Reconcile runs the health check of everyone known at asOf and
// reconciles their Tasks as a write would. It pages through the people with
// facts or Tasks, reading and evaluating the committed state (the next
// batch is read while one is evaluated); the people whose Tasks must change
// are then reconciled again in a transaction, locked, from what it reads,
// so a write about them committed meanwhile is not overwritten. A person
// written to during the run is reconciled by that write itself. A run again
// with the same data and date changes nothing and writes nothing. progress,
// when not nil, is told the totals after each batch.
func (g *Gateway) Reconcile(ctx context.Context, asOf healthcheck.Date, batch int, progress func(ReconcileResult)) (ReconcileResult, error) {
	var total ReconcileResult
	cfg, err := g.checkConfig("")
	if err != nil {
		return total, err
	}
	err = g.eachEvaluated(ctx, asOf, cfg, batch, func(people []string, verdicts []healthcheck.Verdict) error {
		have, err := g.store.CheckTasks(ctx, people)
		if err != nil {
			return err
		}
		var change []string
		for _, v := range verdicts {
			var mine []store.CheckTask
			mine, have = tasksOf(have, v.NHSNumber)
			if !planTasks(v, mine).empty() {
				change = append(change, v.NHSNumber)
				continue
			}
			total.add(counted(v))
		}
		if len(change) > 0 {
			var r ReconcileResult
			err := g.transact(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				r, err = g.reconcile(ctx, tx, change, asOf, "")
				return err
			})
			if err != nil {
				return fmt.Errorf("reconcile the people from %s: %w", change[0], err)
			}
			total.add(r)
		}
		if progress != nil {
			progress(total)
		}
		return nil
	})
	return total, err
}

// eachBatch gives fn the people with facts or Tasks, batch at a time, in
// NHS number order.
func (g *Gateway) eachBatch(ctx context.Context, batch int, fn func(people []string) error) error {
	if batch <= 0 {
		batch = 500
	}
	after := ""
	for {
		people, err := g.store.People(ctx, after, batch)
		if err != nil {
			return err
		}
		if len(people) == 0 {
			return nil
		}
		if err := fn(people); err != nil {
			return err
		}
		after = people[len(people)-1]
	}
}

// Verdicts evaluates everyone known at asOf in mode ("" for the configured
// one) from the committed facts, without changing anything, and gives fn
// each verdict in NHS number order: what reports count.
func (g *Gateway) Verdicts(ctx context.Context, asOf healthcheck.Date, mode healthcheck.Mode, batch int, fn func(healthcheck.Verdict) error) error {
	cfg, err := g.checkConfig(mode)
	if err != nil {
		return err
	}
	return g.eachEvaluated(ctx, asOf, cfg, batch, func(_ []string, verdicts []healthcheck.Verdict) error {
		for _, v := range verdicts {
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachEvaluated gives fn the people with facts or Tasks, batch at a time in
// NHS number order, with their verdicts at asOf from the committed facts.
// The next batch is read while one is evaluated.
func (g *Gateway) eachEvaluated(ctx context.Context, asOf healthcheck.Date, cfg *healthcheck.Config, batch int, fn func(people []string, verdicts []healthcheck.Verdict) error) error {
	type rowsOf struct {
		people []string
		rows   []store.Projection
		err    error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan rowsOf, 1)
	go func() {
		defer close(next)
		send := func(b rowsOf) error {
			select {
			case next <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := g.eachBatch(ctx, batch, func(people []string) error {
			rows, err := g.store.ProjectionsOfPeople(ctx, people)
			if err != nil {
				return err
			}
			return send(rowsOf{people: people, rows: rows})
		})
		if err != nil {
			send(rowsOf{err: err})
		}
	}()
	for b := range next {
		if b.err != nil {
			return b.err
		}
		verdicts, err := g.evaluate(b.people, b.rows, asOf, cfg)
		if err != nil {
			return err
		}
		if err := fn(b.people, verdicts); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// checkConfig returns the health check configuration with mode, or the
// configured mode when "".
func (g *Gateway) checkConfig(mode healthcheck.Mode) (*healthcheck.Config, error) {
	if g.check == nil {
		return nil, ErrNoHealthCheck
	}
	cfg := *g.check
	switch mode {
	case "":
	case healthcheck.Rolling, healthcheck.QOF:
		cfg.Mode = mode
	default:
		return nil, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "mode", "mode %q is not %q or %q", mode, healthcheck.Rolling, healthcheck.QOF)
	}
	return &cfg, nil
}

// CheckTaskState is a health check Task the gateway raised, as it stands.
type CheckTaskState struct {
	ID             string
	Status         string
	BusinessStatus string
	Key            string
	Kind           healthcheck.TaskKind
	Subject        string // the component or the finding
	Owner          string // ODS code
	Due            string // the last day of its period, when it has one
}

// HealthCheck returns a person's verdict at asOf in mode ("" for the
// configured one), from the committed facts, and the health check Tasks
// raised for them that are still open.
func (g *Gateway) HealthCheck(ctx context.Context, nhsNumber string, asOf healthcheck.Date, mode healthcheck.Mode) (healthcheck.Verdict, []CheckTaskState, error) {
	cfg, err := g.checkConfig(mode)
	if err != nil {
		return healthcheck.Verdict{}, nil, err
	}
	rows, err := g.store.ProjectionsOfPerson(ctx, nhsNumber)
	if err != nil {
		return healthcheck.Verdict{}, nil, err
	}
	var v healthcheck.Verdict
	if err := g.verdicts([]string{nhsNumber}, rows, asOf, cfg, func(got healthcheck.Verdict) error { v = got; return nil }); err != nil {
		return v, nil, err
	}
	links, err := g.store.CheckTasks(ctx, []string{nhsNumber})
	if err != nil {
		return v, nil, err
	}
	var open []CheckTaskState
	for _, l := range links {
		r, err := g.store.Read(ctx, "Task", l.TaskID)
		switch fhir.KindOf(err) {
		case fhir.NotFound, fhir.Gone:
			continue
		}
		if err != nil {
			return v, nil, err
		}
		task, err := fhir.ParseJSON(r.Body)
		if err != nil {
			return v, nil, fmt.Errorf("read Task/%s: %w", l.TaskID, err)
		}
		if taskflow.Terminal(taskflow.Status(task.Str("status"))) {
			continue
		}
		s := CheckTaskState{ID: l.TaskID, Status: task.Str("status"), Key: l.Key}
		s.Kind, s.Subject, _ = healthcheck.ParseKey(l.Key)
		if bs, ok := get(task, "businessStatus").Get("coding"); ok && bs.Len() > 0 {
			s.BusinessStatus = bs.Items()[0].Str("code")
		}
		s.Owner = get(get(task, "owner"), "identifier").Str("value")
		s.Due = get(get(task, "restriction"), "period").Str("end")
		open = append(open, s)
	}
	if a, ok := audited(ctx); ok {
		e := g.newAudit(a, "E", "operation", "Patient", "")
		e.rec.Person = nhsNumber
		return v, open, g.audits.record(ctx, g.store, e)
	}
	return v, open, nil
}

// PersonOfPatient returns the NHS number of Patient/id: the person its
// projection row names, read through its mapping profile's identifier
// systems.
func (g *Gateway) PersonOfPatient(ctx context.Context, id string) (string, error) {
	r, err := g.Read(ctx, "Patient", id)
	if err != nil {
		return "", err
	}
	p, err := fhir.ParseJSON(r.Body)
	if err != nil {
		return "", fmt.Errorf("read Patient/%s: %w", id, err)
	}
	systems := []string{nhsNumberSystem}
	if g.proj != nil {
		if m, ok := g.proj.reg.ForSource(get(p, "meta").Str("source")); ok {
			systems = append(systems, m.Profile().Identifiers.NHSNumber...)
		}
	}
	if ids, ok := p.Get("identifier"); ok {
		for _, ident := range ids.Items() {
			if slices.Contains(systems, ident.Str("system")) {
				if n, ok := fhir.NormalizeNHSNumber(ident.Str("value")); ok {
					return n, nil
				}
			}
		}
	}
	return "", fhir.Errorf(fhir.Invalid, fhir.IssueNotFound, "", "Patient/%s has no valid NHS number, so no health check can be made for it", id)
}

// CountPeople counts the people a full reconciliation visits, for its
// progress display.
func (g *Gateway) CountPeople(ctx context.Context) (int, error) { return g.store.CountPeople(ctx) }

// Today is the reference date of today where the health check keeps time.
func (g *Gateway) Today() (healthcheck.Date, error) {
	if g.check == nil {
		return healthcheck.Date{}, ErrNoHealthCheck
	}
	return g.today(), nil
}

// HealthCheckEnabled reports whether the gateway runs the health check.
func (g *Gateway) HealthCheckEnabled() bool { return g.check != nil }

// Report counts everyone's health check at asOf in mode ("" for the
// configured one) per practice, PCN and trust, from the committed facts.
func (g *Gateway) Report(ctx context.Context, asOf healthcheck.Date, mode healthcheck.Mode) ([]healthcheck.Summary, error) {
	if err := allow(ctx, "MeasureReport", InteractionSearch, ""); err != nil {
		return nil, err
	}
	cfg, err := g.checkConfig(mode)
	if err != nil {
		return nil, err
	}
	s := healthcheck.NewSummariser(asOf, cfg.Mode, g.pcns)
	if err := g.Verdicts(ctx, asOf, cfg.Mode, 0, s.Add); err != nil {
		return nil, err
	}
	return g.ownSummaries(ctx, s.Summaries()), nil
}

// ownSummaries keeps, for an organisation, the summaries of its own
// practice or trust and of the PCNs its practice is in.
func (g *Gateway) ownSummaries(ctx context.Context, all []healthcheck.Summary) []healthcheck.Summary {
	a, ok := organisation(ctx)
	if !ok {
		return all
	}
	return slices.DeleteFunc(all, func(s healthcheck.Summary) bool {
		if s.Scope.Kind == healthcheck.ScopePCN {
			return !slices.Contains(g.pcns[s.Scope.Code], a.ODS)
		}
		return s.Scope.Code != a.ODS
	})
}

// RulesVersion is the version of the health check rules in use.
func (g *Gateway) RulesVersion() string {
	if g.check == nil {
		return ""
	}
	return g.check.Rules.Version
}

// OrgNames are organisations' names by ODS code, as configured.
func (g *Gateway) OrgNames() map[string]string { return g.names }
