package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/healthcheck"
)

func newReconcileCommand(e *env) *cobra.Command {
	var asOf string
	var batch int
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Run the annual health check for everyone and bring their Tasks in line",
		Long: `Evaluate the annual SMI physical health check of every person known, at the
reference date, and raise, complete or cancel their Tasks as writes do. Safe
while the gateway serves traffic, and safe to run again: a second run with the
same data and date changes nothing. Progress goes to stderr, the summary to
stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, date, err := openAtDate(cmd, e, asOf)
			if err != nil {
				return err
			}
			defer a.close()
			ctx := cmd.Context()
			total, err := a.gateway.CountPeople(ctx)
			if err != nil {
				return err
			}
			bar := newProgress(e.stderr, "reconcile", total, time.Now)
			res, err := a.gateway.Reconcile(ctx, date, batch, func(r adapter.ReconcileResult) { bar.update(r.People) })
			bar.done(res.People)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "reconciled %d people at %s in %s: %d eligible, %d with all six done; Tasks: %d raised, %d completed, %d cancelled\n",
				res.People, date, bar.elapsed().Round(time.Millisecond), res.Eligible, res.AllSix, res.Raised, res.Completed, res.Cancelled)
			return err
		},
	}
	addSettingFlags(cmd.Flags(), "db", "mappings-dir", "default-profile", "check-mode", "timezone", "log-level", "log-format")
	cmd.Flags().StringVar(&asOf, "as-of", "", "reference date YYYY-MM-DD (default: today)")
	cmd.Flags().IntVar(&batch, "batch", 500, "people per transaction")
	return cmd
}

// openAtDate opens the app for a command that works at a reference date,
// and parses its --as-of value: today where the app keeps time when "".
func openAtDate(cmd *cobra.Command, e *env, asOf string) (*app, healthcheck.Date, error) {
	a, err := openApp(cmd, e)
	if err != nil {
		return nil, healthcheck.Date{}, err
	}
	date, err := referenceDate(asOf, a.location)
	if err != nil {
		a.close()
		return nil, date, err
	}
	return a, date, nil
}

// referenceDate parses a --as-of value; today where loc keeps time when "".
func referenceDate(s string, loc *time.Location) (healthcheck.Date, error) {
	if s == "" {
		return healthcheck.DateOf(time.Now(), loc), nil
	}
	d, err := healthcheck.ParseDate(s)
	if err != nil {
		return d, fmt.Errorf("--as-of %q: use a date such as 2026-03-31", s)
	}
	return d, nil
}

// progress draws a progress bar for a long run on one line per second at
// most, which reads well on a terminal and in a log.
type progress struct {
	w     io.Writer
	what  string
	total int
	now   func() time.Time
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, what string, total int, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, what: what, total: total, now: now, start: t, last: t}
}

func (p *progress) elapsed() time.Duration { return p.now().Sub(p.start) }

// update shows done of total, when a second has passed since the last line.
func (p *progress) update(done int) {
	if t := p.now(); t.Sub(p.last) >= time.Second {
		p.last = t
		p.line(done)
	}
}

// done shows the last line.
func (p *progress) done(done int) { p.line(done) }

func (p *progress) line(done int) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(done)/float64(p.total))
	}
	filled := int(frac * width)
	secs := p.elapsed().Seconds()
	rate, eta := 0.0, ""
	if secs > 0 {
		rate = float64(done) / secs
	}
	if rate > 0 && done < p.total {
		eta = fmt.Sprintf(", %s left", time.Duration(float64(p.total-done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "%s [%s%s] %3.0f%% %d/%d people, %.0f/s%s\n", p.what,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, done, p.total, rate, eta)
}
