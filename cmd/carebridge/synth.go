package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter/synth"
	"github.com/carebridge/carebridge/fhir"
)

func newSynthCommand(e *env) *cobra.Command {
	var (
		people, perBundle int
		seed              uint64
		asOf, out         string
		national          bool
	)
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Generate a seeded synthetic SMI population, as files or into a database",
		Long: `Generate synthetic people on the serious mental illness register, as the FHIR
transaction Bundles their GP practices and mental health trust would send: SMI
diagnoses of every kind, remission, episodes of secondary care, and health check
results by either side, both or neither, around the follow-up thresholds, with
duplicates, same-day conflicts, old results and declines. Each organisation
speaks the dialect of one shipped mapping profile. The same seed, size and
date give the same Bundles, byte for byte; NHS numbers come from the 999 test
range.

Give exactly one destination:
  --out DIR   writes DIR/primary.ndjson and DIR/secondary.ndjson, one Bundle a line
  --db URL    stores the Bundles through the gateway, as any sender's would be
              (CAREBRIDGE_DB also names the database when --out is not given)

Loading the same population again adds nothing: resources have stable ids or
conditional creates. Progress goes to stderr, the summary to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			toDB := cmd.Flags().Changed("db") || (out == "" && e.getenv(envName("db")) != "")
			switch {
			case out != "" && toDB:
				return errors.New("give --out DIR or --db URL, not both")
			case out == "" && !toDB:
				return errors.New("say where the population goes: --out DIR (NDJSON files) or --db URL (through the gateway)")
			}
			cfg := synth.DefaultConfig()
			if national {
				cfg = synth.NationalConfig(people)
			}
			cfg.People, cfg.Seed, cfg.AsOf = people, seed, asOf
			if cmd.Flags().Changed("people-per-bundle") {
				cfg.PeoplePerBundle = perBundle
			}
			if cfg.AsOf == "" {
				london, err := time.LoadLocation("Europe/London")
				if err != nil {
					return err
				}
				cfg.AsOf = time.Now().In(london).Format(time.DateOnly)
			}

			start := time.Now()
			var (
				stats synth.Stats
				dest  string
				err   error
			)
			if out != "" {
				dest = filepath.Join(out, "primary.ndjson") + " and " + filepath.Join(out, "secondary.ndjson")
				stats, err = writeSynthetic(ctx, out, cfg, e.stderr)
			} else {
				appCfg, cerr := loadConfig(cmd.Flags(), e.getenv)
				if cerr != nil {
					return cerr
				}
				a, aerr := newApp(ctx, appCfg, e.stderr)
				if aerr != nil {
					return aerr
				}
				defer a.close()
				dest = redactDB(appCfg.DB)
				stats, err = seedSynthetic(ctx, a, cfg, e.stderr)
			}
			if err != nil {
				return err
			}
			return printSynthSummary(e.stdout, cfg, stats, dest, time.Since(start))
		},
	}
	addSettingFlags(cmd.Flags(), "db", "mappings-dir", "default-profile", "log-level", "log-format", "sqlite-synchronous")
	f := cmd.Flags()
	f.IntVar(&people, "people", 300, "how many people")
	f.Uint64Var(&seed, "seed", 1, "seed of every random choice: the same seed gives the same population")
	f.StringVar(&asOf, "as-of", "", "reference date YYYY-MM-DD: results fall in the 30 months before it (default today in Europe/London)")
	f.IntVar(&perBundle, "people-per-bundle", 1, "people of one organisation packed into one Bundle, for bulk loads (--national packs 100 unless this is given)")
	f.StringVar(&out, "out", "", "write NDJSON files into this folder instead of storing")
	f.BoolVar(&national, "national", false, "spread people over synthetic practices P00001... (uk-core-gp) and trusts (uk-core-trust and trust-epr-icd10) instead of the demo PCN")
	return cmd
}

// seedSynthetic stores a synthetic population through the gateway, each
// Bundle as any sender's transaction, reporting progress on progress (nil
// for none).
func seedSynthetic(ctx context.Context, a *app, cfg synth.Config, progress io.Writer) (synth.Stats, error) {
	report := newSynthProgress(progress)
	return synth.Generate(ctx, cfg, func(b synth.Bundle) error {
		bundle, err := fhir.DecodeResource(b.JSON)
		if err != nil {
			return fmt.Errorf("the generated Bundle is not valid FHIR: %w", err)
		}
		if _, err := a.gateway.ProcessBundle(ctx, bundle); err != nil {
			return fmt.Errorf("store it: %w", err)
		}
		report.add(b)
		return nil
	})
}

// writeSynthetic writes a synthetic population into dir as NDJSON: one file
// a side, one Bundle a line.
func writeSynthetic(ctx context.Context, dir string, cfg synth.Config, progress io.Writer) (stats synth.Stats, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return stats, fmt.Errorf("make the output folder: %w", err)
	}
	files := map[string]*bufio.Writer{}
	for _, side := range []string{synth.SidePrimary, synth.SideSecondary} {
		path := filepath.Join(dir, side+".ndjson")
		f, err := os.Create(path)
		if err != nil {
			return stats, fmt.Errorf("create %s: %w", path, err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close %s: %w", path, cerr)
			}
		}()
		w := bufio.NewWriterSize(f, 1<<20)
		defer func() {
			if ferr := w.Flush(); ferr != nil && err == nil {
				err = fmt.Errorf("write %s: %w", path, ferr)
			}
		}()
		files[side] = w
	}
	report := newSynthProgress(progress)
	return synth.Generate(ctx, cfg, func(b synth.Bundle) error {
		w := files[b.Side]
		if _, err := w.Write(b.JSON); err != nil {
			return fmt.Errorf("write %s.ndjson: %w", b.Side, err)
		}
		if err := w.WriteByte('\n'); err != nil {
			return fmt.Errorf("write %s.ndjson: %w", b.Side, err)
		}
		report.add(b)
		return nil
	})
}

// synthProgress reports generation at most once a second.
type synthProgress struct {
	w               io.Writer
	start, last     time.Time
	people, bundles int
}

func newSynthProgress(w io.Writer) *synthProgress {
	if w == nil {
		w = io.Discard
	}
	now := time.Now()
	return &synthProgress{w: w, start: now, last: now}
}

func (p *synthProgress) add(b synth.Bundle) {
	p.bundles++
	if b.Side == synth.SidePrimary { // everyone is registered with a practice
		p.people += b.People
	}
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		fmt.Fprintf(p.w, "synth: %d people, %d bundles (%.0f bundles/s)\n",
			p.people, p.bundles, float64(p.bundles)/now.Sub(p.start).Seconds())
	}
}

func printSynthSummary(w io.Writer, cfg synth.Config, s synth.Stats, dest string, took time.Duration) error {
	fmt.Fprintf(w, "synthetic population: %d people, %d bundles, %d resources (seed %d, as of %s)\n",
		s.People, s.Bundles, s.Resources, cfg.Seed, cfg.AsOf)
	fmt.Fprintf(w, "into %s in %s (%.0f bundles/s)\n\n", dest, took.Round(time.Millisecond), float64(s.Bundles)/took.Seconds())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tPEOPLE")
	for _, sc := range synth.Scenarios() {
		fmt.Fprintf(tw, "%s\t%d\n", sc, s.Scenarios[sc])
	}
	return tw.Flush()
}
