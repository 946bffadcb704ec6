package main

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/fhir"
)

// demoSeed is a transaction Bundle of synthetic people: three GP practices,
// one mental health trust, six people on the SMI register with diagnoses,
// some health check results and two open Tasks.
//
//go:embed demo_seed.json
var demoSeed []byte

func newDemoCommand(e *env) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway on an embedded database with synthetic data",
		Long: `Run the gateway on an embedded SQLite database seeded with synthetic people
(three GP practices, one mental health trust, six people on the SMI register),
and print the URLs and example requests to try. The database is made in a
temporary folder and removed at exit, unless --db names one (or --keep is given).
Stop with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("log-format") && e.getenv(envName("log-format")) == "" {
				cfg.Log.Format = "text"
			}
			if !cmd.Flags().Changed("db") && e.getenv(envName("db")) == "" {
				dir, err := os.MkdirTemp("", "carebridge-demo-")
				if err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
				cfg.DB = "sqlite:" + filepath.Join(dir, "demo.db")
			}
			a, err := newApp(ctx, cfg, e.stderr)
			if err != nil {
				return err
			}
			defer a.close()
			seeded, err := seedDemo(ctx, a)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			printDemoHelp(e, "http://"+ln.Addr().String(), cfg.DB, seeded)
			return a.server.Serve(ctx, ln)
		},
	}
	addSettingFlags(cmd.Flags())
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary database at exit")
	return cmd
}

// seedDemo loads the synthetic data through the same path as any sender,
// unless the database already holds people. It returns the entries stored.
func seedDemo(ctx context.Context, a *app) (int, error) {
	gw := a.gateway
	existing, err := gw.Search(ctx, "Patient", url.Values{"_count": {"1"}}, false)
	if err != nil {
		return 0, fmt.Errorf("look for existing data: %w", err)
	}
	if len(existing.Result.Resources) > 0 {
		return 0, nil
	}
	bundle, err := fhir.DecodeResource(demoSeed)
	if err != nil {
		return 0, fmt.Errorf("the demo data is invalid: %w", err)
	}
	out, err := gw.ProcessBundle(ctx, bundle)
	if err != nil {
		return 0, fmt.Errorf("store the demo data: %w", err)
	}
	return len(out.Entries), nil
}

func printDemoHelp(e *env, root, db string, seeded int) {
	base := root + "/fhir"
	state := fmt.Sprintf("seeded with %d synthetic resources", seeded)
	if seeded == 0 {
		state = "already holds data; nothing was added"
	}
	fmt.Fprintf(e.stdout, `CareBridge demo is running.

  FHIR base    %[1]s
  database     %[2]s (%[3]s)
  health       %[4]s/healthz   %[4]s/readyz   metrics %[4]s/metrics

Try:
  curl -s %[1]s/metadata
  curl -s '%[1]s/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018'
  curl -s '%[1]s/Observation?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000026'
  curl -s '%[1]s/Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A12345&status=requested'
  curl -s '%[1]s/Condition?code=http://snomed.info/sct|58214004&_count=10'
  curl -s -X POST %[1]s -H 'Content-Type: application/fhir+json' -d @bundle.json

Stop with Ctrl-C.
`, base, redactDB(db), state, root)
}
