package adapter

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
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
// seeing what the first committed.
func (g *Gateway) reconcile(ctx context.Context, tx store.Tx, people []string, asOf healthcheck.Date) (ReconcileResult, error) {
	var res ReconcileResult
	people = slices.Compact(slices.Sorted(slices.Values(people)))
	people = slices.DeleteFunc(people, func(p string) bool { return p == "" })
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
	existing, err := tx.CheckTasks(ctx, people)
	if err != nil {
		return res, err
	}
	now := g.now().UTC()
	var writes []store.Write
	var links []store.CheckTask
	err = g.verdicts(people, rows, asOf, g.check, func(v healthcheck.Verdict) error {
		var have []store.CheckTask
		for len(existing) > 0 && existing[0].Person < v.NHSNumber {
			existing = existing[1:]
		}
		for len(existing) > 0 && existing[0].Person == v.NHSNumber {
			have, existing = append(have, existing[0]), existing[1:]
		}
		res.People++
		if v.Eligibility.Eligible {
			res.Eligible++
		}
		if v.AllSixDone {
			res.AllSix++
		}
		w, l, err := g.taskChanges(ctx, tx, v, have, now, &res)
		writes, links = append(writes, w...), append(links, l...)
		return err
	})
	if err != nil {
		return res, err
	}
	if len(writes) > 0 {
		if err := tx.Put(ctx, writes); err != nil {
			return res, err
		}
	}
	if err := tx.PutCheckTasks(ctx, links); err != nil {
		return res, err
	}
	return res, nil
}

// taskChanges returns the Task versions and links that bring the Tasks of
// v's person (have, in key order) in line with v, counting them in res.
func (g *Gateway) taskChanges(ctx context.Context, tx store.Tx, v healthcheck.Verdict, have []store.CheckTask, now time.Time, res *ReconcileResult) ([]store.Write, []store.CheckTask, error) {
	var writes []store.Write
	var links []store.CheckTask
	known := make(map[string]bool, len(have))
	for _, c := range have {
		known[c.Key] = true
	}
	for _, t := range v.Tasks {
		if known[t.Key] {
			continue // one Task per key, ever, whatever became of it
		}
		known[t.Key] = true
		w, err := g.taskWrite(g.newID(), 1, newTaskResource(t, v.NHSNumber, now), now, http.MethodPost)
		if err != nil {
			return nil, nil, err
		}
		writes = append(writes, w)
		links = append(links, store.CheckTask{Key: t.Key, Person: v.NHSNumber, TaskID: w.ID, Open: true})
		res.Raised++
	}
	for _, c := range have {
		if !c.Open {
			continue
		}
		outcome, ok := v.Close(c.Key)
		if !ok {
			continue
		}
		c.Open = false
		links = append(links, c)
		cur, err := tx.Read(ctx, "Task", c.TaskID)
		switch fhir.KindOf(err) {
		case fhir.NotFound, fhir.Gone:
			continue // deleted: nothing to close
		}
		if err != nil {
			return nil, nil, err
		}
		task, err := fhir.ParseJSON(cur.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("read Task/%s: %w", c.TaskID, err)
		}
		if terminalTaskStatus(task.Str("status")) {
			continue // its owner finished it
		}
		w, err := g.taskWrite(c.TaskID, cur.VersionID+1, closeTaskResource(task, outcome, now), now, http.MethodPut)
		if err != nil {
			return nil, nil, err
		}
		writes = append(writes, w)
		if outcome.Status == "completed" {
			res.Completed++
		} else {
			res.Cancelled++
		}
	}
	return writes, links, nil
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
