package adapter

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/taskflow"
	"github.com/carebridge/carebridge/fhir"
)

// ErrNoHealthCheck is returned by health check work when the Gateway has no
// health check configuration.
var ErrNoHealthCheck = fhir.Errorf(fhir.NotFound, fhir.IssueNotSupported, "", "the health check is not configured on this gateway")

// ReconcileResult counts what a reconciliation did.
type ReconcileResult struct {
	People    int `json:"people"`    // people reconciled
	Eligible  int `json:"eligible"`  // of whom eligible for the check
	AllSix    int `json:"allSix"`    // of whom with all six components done
	Raised    int `json:"raised"`    // Tasks raised
	Completed int `json:"completed"` // Tasks completed by evidence
	Cancelled int `json:"cancelled"` // Tasks cancelled
}

func (r *ReconcileResult) add(o ReconcileResult) {
	r.People += o.People
	r.Eligible += o.Eligible
	r.AllSix += o.AllSix
	r.Raised += o.Raised
	r.Completed += o.Completed
	r.Cancelled += o.Cancelled
}

// today is the reference date of incremental reconciliation.
func (g *Gateway) today() healthcheck.Date {
	return healthcheck.DateOf(g.now(), g.check.Location)
}

// reconcile brings the health check Tasks of people in line with their
// verdicts at asOf, inside tx: it raises the Tasks the verdicts want and
// no Task with their key was ever raised for, and closes the open ones
// they no longer want (rule 17). People are locked first, so two
// transactions about one person reconcile one after the other, the second
// seeing what the first committed. On the way it brings the organisations
// that may see the people in line with their facts (see
// refreshPersonOrgs; sentBy as there).
func (g *Gateway) reconcile(ctx context.Context, tx store.Tx, people []string, asOf healthcheck.Date, sentBy string) (ReconcileResult, error) {
	var res ReconcileResult
	people = distinctPeople(people)
	if len(people) == 0 {
		return res, nil
	}
	keys := make([]string, len(people))
	for i, p := range people {
		keys[i] = "healthcheck:" + p
	}
	if err := tx.Lock(ctx, keys...); err != nil {
		return res, err
	}
	rows, err := tx.ProjectionsOfPeople(ctx, people)
	if err != nil {
		return res, err
	}
	if err := putPersonOrgs(ctx, tx, people, rows, sentBy); err != nil {
		return res, err
	}
	existing, err := tx.CheckTasks(ctx, people)
	if err != nil {
		return res, err
	}
	now := g.now().UTC()
	var writes []store.Write
	var links []store.CheckTask
	err = g.verdicts(people, rows, asOf, g.check, func(v healthcheck.Verdict) error {
		var have []store.CheckTask
		have, existing = tasksOf(existing, v.NHSNumber)
		res.add(counted(v))
		w, l, err := g.taskChanges(ctx, tx, v, have, now, &res)
		writes, links = append(writes, w...), append(links, l...)
		return err
	})
	if err != nil {
		return res, err
	}
	if len(writes) > 0 {
		if err := g.put(ctx, tx, "", writes); err != nil {
			return res, err
		}
	}
	if err := tx.PutCheckTasks(ctx, links); err != nil {
		return res, err
	}
	return res, nil
}

// taskPlan is what brings one person's Tasks in line with their verdict:
// the Tasks to raise, and the open ones to close, with how.
type taskPlan struct {
	raise []healthcheck.Task
	close []closing
}

// closing is an open Task to close, and how it ends.
type closing struct {
	link    store.CheckTask
	outcome healthcheck.Outcome
}

// planTasks compares the Tasks of v's person (have) with what v wants: it
// raises the Tasks whose key was never raised (one Task per key, ever,
// whatever became of it) and closes the open ones v no longer wants.
func planTasks(v healthcheck.Verdict, have []store.CheckTask) taskPlan {
	var p taskPlan
	known := make(map[string]bool, len(have)+len(v.Tasks))
	for _, c := range have {
		known[c.Key] = true
		if !c.Open {
			continue
		}
		if outcome, ok := v.Close(c.Key); ok {
			p.close = append(p.close, closing{c, outcome})
		}
	}
	for _, t := range v.Tasks {
		if !known[t.Key] {
			known[t.Key] = true
			p.raise = append(p.raise, t)
		}
	}
	return p
}

// empty reports whether the plan changes nothing.
func (p taskPlan) empty() bool { return len(p.raise) == 0 && len(p.close) == 0 }

// taskChanges returns the Task versions and links that carry out the plan
// for v's Tasks (have, in key order), counting them in res. A Task to
// close that is gone or that its owner has finished is only marked closed.
func (g *Gateway) taskChanges(ctx context.Context, tx store.Tx, v healthcheck.Verdict, have []store.CheckTask, now time.Time, res *ReconcileResult) ([]store.Write, []store.CheckTask, error) {
	plan := planTasks(v, have)
	var writes []store.Write
	var links []store.CheckTask
	for _, t := range plan.raise {
		task := newTaskResource(t, v.NHSNumber, now)
		if err := taskflow.Create(taskflow.Read(task)); err != nil {
			return nil, nil, fhir.Wrap(fmt.Errorf("raise Task %s: %w", t.Key, err), "reconciling the health check")
		}
		w, err := g.taskWrite(g.newID(), 1, task, now, http.MethodPost)
		if err != nil {
			return nil, nil, err
		}
		writes = append(writes, w)
		links = append(links, store.CheckTask{Key: t.Key, Person: v.NHSNumber, TaskID: w.ID, Open: true})
		res.Raised++
	}
	for _, c := range plan.close {
		link := c.link
		link.Open = false
		links = append(links, link)
		cur, err := tx.Read(ctx, "Task", link.TaskID)
		switch fhir.KindOf(err) {
		case fhir.NotFound, fhir.Gone:
			continue // deleted: nothing to close
		}
		if err != nil {
			return nil, nil, err
		}
		task, err := fhir.ParseJSON(cur.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("read Task/%s: %w", link.TaskID, err)
		}
		from := taskflow.Read(task)
		if taskflow.Terminal(from.Status) {
			continue // its owner finished it
		}
		// The link says the gateway raised it, whatever meta.source its
		// owner's versions carry.
		from.Raised = true
		closed := closeTaskResource(task, c.outcome, now)
		if err := taskflow.Update(from, taskflow.Read(closed), taskflow.Actor{System: true}); err != nil {
			return nil, nil, fhir.Wrap(fmt.Errorf("close Task/%s: %w", link.TaskID, err), "reconciling the health check")
		}
		w, err := g.taskWrite(link.TaskID, cur.VersionID+1, closed, now, http.MethodPut)
		if err != nil {
			return nil, nil, err
		}
		writes = append(writes, w)
		if c.outcome.Status == "completed" {
			res.Completed++
		} else {
			res.Cancelled++
		}
	}
	return writes, links, nil
}

// tasksOf splits the Tasks of person off the front of tasks (in person
// order, none before person): the person's, and the rest.
func tasksOf(tasks []store.CheckTask, person string) (mine, rest []store.CheckTask) {
	for len(tasks) > 0 && tasks[0].Person < person {
		tasks = tasks[1:]
	}
	n := 0
	for n < len(tasks) && tasks[n].Person == person {
		n++
	}
	return tasks[:n], tasks[n:]
}

// counted is the count of one person's verdict in a ReconcileResult.
func counted(v healthcheck.Verdict) ReconcileResult {
	r := ReconcileResult{People: 1}
	if v.Eligibility.Eligible {
		r.Eligible = 1
	}
	if v.AllSixDone {
		r.AllSix = 1
	}
	return r
}

// taskWrite stamps and indexes a version of a Task the gateway writes.
func (g *Gateway) taskWrite(id string, version int64, task fhir.Value, now time.Time, method string) (store.Write, error) {
	now = now.Truncate(time.Millisecond)
	fhir.Stamp(&task, id, version, now)
	ix, err := fhir.ExtractIndex("Task", task, g.loc)
	if err != nil {
		return store.Write{}, fmt.Errorf("index Task/%s: %w", id, err)
	}
	return store.Write{Type: "Task", ID: id, VersionID: version, LastUpdated: now, Method: method, Body: task.AppendJSON(nil), Index: ix}, nil
}

// verdicts evaluates each of people (sorted) from their projection rows
// (in person order) at asOf, and gives fn the verdicts in people order.
func (g *Gateway) verdicts(people []string, rows []store.Projection, asOf healthcheck.Date, cfg *healthcheck.Config, fn func(healthcheck.Verdict) error) error {
	out, err := g.evaluate(people, rows, asOf, cfg)
	if err != nil {
		return err
	}
	for _, v := range out {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// evaluate returns the verdicts of people (sorted) from their projection
// rows (in person order) at asOf, in people order. Decoding and
// evaluation, the costly part, run on every CPU.
func (g *Gateway) evaluate(people []string, rows []store.Projection, asOf healthcheck.Date, cfg *healthcheck.Config) ([]healthcheck.Verdict, error) {
	// Each person's rows, found in one pass.
	own := make([][]store.Projection, len(people))
	for i, p := range people {
		for len(rows) > 0 && rows[0].Person < p {
			rows = rows[1:]
		}
		n := 0
		for n < len(rows) && rows[n].Person == p {
			n++
		}
		own[i], rows = rows[:n], rows[n:]
	}
	out := make([]healthcheck.Verdict, len(people))
	errs := make([]error, len(people))
	one := func(i int) {
		facts := make([]sharedcare.Facts, len(own[i]))
		for j, r := range own[i] {
			if facts[j], errs[i] = decodeFacts(r); errs[i] != nil {
				return
			}
		}
		out[i], errs[i] = healthcheck.Evaluate(sharedcare.Assemble(people[i], facts), asOf, *cfg)
	}
	workers := min(runtime.GOMAXPROCS(0), (len(people)+31)/32)
	if workers <= 1 {
		for i := range people {
			one(i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(people); i = int(next.Add(1) - 1) {
					one(i)
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
