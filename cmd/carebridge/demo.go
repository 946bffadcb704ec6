package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/synth"
)

// demoPCN is the primary care network of the demo's three practices.
// demoTrust is the ODS code of the demo's mental health trust.
const demoTrust = "RXX"

var demoPCN = PCNConfig{Code: "U12345", Name: "Riverside Primary Care Network", Practices: []string{"A12345", "B23456", "C34567"}}

func newDemoCommand(e *env) *cobra.Command {
	var keep bool
	var people int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway on an embedded database with a synthetic PCN and trust",
		Long: `Run the gateway on an embedded SQLite database seeded with a synthetic population
(carebridge synth, seed 1): one primary care network of three GP practices and one
mental health trust, each sending FHIR in the dialect of a shipped mapping profile,
through the same transaction path as any sender. Every write reconciles the annual
health check; the demo then runs a full reconciliation, prints the PCN's picture,
the URLs and example requests to try. The database is made in a temporary folder
and removed at exit, unless --db names one (or --keep is given). Stop with Ctrl-C.`,
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
			if len(cfg.HealthCheck.PCNs) == 0 {
				cfg.HealthCheck.PCNs = []PCNConfig{demoPCN}
			}
			if len(cfg.HealthCheck.PCNs[0].Practices) == 0 {
				return fmt.Errorf("the demo shows the first PCN of the configuration, and %s names no practices", cfg.HealthCheck.PCNs[0].Code)
			}
			dir, err := os.MkdirTemp("", "carebridge-demo-")
			if err != nil {
				return err
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			if !cmd.Flags().Changed("db") && e.getenv(envName("db")) == "" {
				cfg.DB = "sqlite:" + filepath.Join(dir, "demo.db")
			}
			configFile, err := writeDemoConfig(dir, cfg.HealthCheck.PCNs)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			defer ln.Close()
			scheme := "http://"
			if cfg.TLS.CertFile != "" {
				scheme = "https://"
			}
			root := scheme + ln.Addr().String()
			if cfg.BaseURL == "" {
				cfg.BaseURL = root + "/fhir"
			}
			if cfg.Auth.KeysDir == "" {
				if cfg.Auth, err = demoAuth(dir, cfg.HealthCheck.PCNs[0], demoTrust); err != nil {
					return err
				}
			}
			a, err := newApp(ctx, cfg, e.stderr)
			if err != nil {
				return err
			}
			defer a.close()
			today := healthcheck.DateOf(time.Now(), a.location)
			seeded, err := seedDemo(ctx, a, people, today, e.stderr)
			if err != nil {
				return err
			}
			res, err := a.gateway.Reconcile(ctx, today, 0, nil)
			if err != nil {
				return fmt.Errorf("reconcile the demo: %w", err)
			}
			if err := printDemoPicture(ctx, e.stdout, a, today, seeded, res.People); err != nil {
				return err
			}
			example, err := demoExample(ctx, a, today, cfg.HealthCheck.PCNs[0].Practices[0])
			if err != nil {
				return err
			}
			printDemoHelp(e, root, cfg.DB, configFile, filepath.Join(dir, "clients"), today, example)
			return a.serve(ctx, ln)
		},
	}
	addSettingFlags(cmd.Flags())
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary database at exit")
	cmd.Flags().IntVar(&people, "people", 300, "synthetic people to seed")
	return cmd
}

// seedDemo stores the synthetic population, unless the database already
// holds people. It returns the people stored.
func seedDemo(ctx context.Context, a *app, people int, today healthcheck.Date, progress io.Writer) (int, error) {
	existing, err := a.gateway.Search(ctx, "Patient", url.Values{"_count": {"1"}}, false)
	if err != nil {
		return 0, fmt.Errorf("look for existing data: %w", err)
	}
	if len(existing.Result.Resources) > 0 {
		return 0, nil
	}
	cfg := synth.DefaultConfig()
	cfg.People, cfg.AsOf, cfg.PeoplePerBundle = people, today.String(), 5
	stats, err := seedSynthetic(ctx, a, cfg, progress)
	if err != nil {
		return 0, fmt.Errorf("store the demo population: %w", err)
	}
	return stats.People, nil
}

// printDemoPicture prints the PCN's health check at today, per practice
// and for the PCN and the trust.
func printDemoPicture(ctx context.Context, w io.Writer, a *app, today healthcheck.Date, seeded, people int) error {
	summaries, err := a.gateway.Report(ctx, today, healthcheck.Rolling)
	if err != nil {
		return err
	}
	state := fmt.Sprintf("seeded %d synthetic people", seeded)
	if seeded == 0 {
		state = "the database already held people; nothing was added"
	}
	fmt.Fprintf(w, "CareBridge demo: %s; %d people reconciled at %s.\n\n", state, people, today)
	fmt.Fprintf(w, "Annual SMI physical health check, 12 months to %s (%% of eligible people done):\n\n", today)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := []string{"", "", "register", "eligible"}
	for _, c := range sharedcare.Components {
		head = append(head, string(c))
	}
	head = append(head, "all six", "by trust only", "")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	pct := func(n, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
	}
	for _, s := range summaries {
		row := []string{string(s.Scope.Kind), s.Scope.Code, fmt.Sprint(s.OnRegister), fmt.Sprint(s.Eligible)}
		trustOnly := 0
		for _, c := range s.Components {
			row = append(row, pct(c.Done+c.DueSoon, s.Eligible))
			trustOnly += c.ByTrustOnly
		}
		row = append(row, pct(s.AllSixDone, s.Eligible), fmt.Sprint(trustOnly), "")
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, "\n\"by trust only\" counts components the trust did that are not yet in the GP record.")
	return err
}

// demoPerson is a person worth showing: eligible, with a component done
// by the trust only.
type demoPerson struct{ nhs, patientID, practice string }

// demoExample finds a demo person with a component done by the trust only
// (a write-back Task), or any eligible one.
func demoExample(ctx context.Context, a *app, today healthcheck.Date, practice string) (demoPerson, error) {
	var best, any string
	err := a.gateway.Verdicts(ctx, today, "", 0, func(v healthcheck.Verdict) error {
		if !v.Eligibility.Eligible || best != "" || v.Practice != practice {
			return nil
		}
		if any == "" {
			any = v.NHSNumber
		}
		for _, c := range v.Components {
			if c.Performer == healthcheck.BySecondary && c.Status == healthcheck.Done {
				best = v.NHSNumber
			}
		}
		return nil
	})
	if err != nil {
		return demoPerson{}, err
	}
	p := demoPerson{nhs: best, practice: practice}
	if p.nhs == "" {
		p.nhs = any
	}
	page, err := a.gateway.Search(ctx, "Patient", url.Values{"identifier": {"https://fhir.nhs.uk/Id/nhs-number|" + p.nhs}, "_count": {"1"}}, false)
	if err != nil {
		return p, err
	}
	if len(page.Result.Resources) > 0 {
		p.patientID = page.Result.Resources[0].ID
	}
	return p, nil
}

// writeDemoConfig writes the demo's PCNs as a configuration file in dir,
// so that the commands the demo suggests see the same PCN.
func writeDemoConfig(dir string, pcns []PCNConfig) (string, error) {
	var doc struct {
		HealthCheck struct {
			PCNs []PCNConfig `yaml:"pcns"`
		} `yaml:"healthCheck"`
	}
	doc.HealthCheck.PCNs = pcns
	data, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("write the demo configuration: %w", err)
	}
	path := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write the demo configuration: %w", err)
	}
	return path, nil
}

func printDemoHelp(e *env, root, db, configFile, clients string, today healthcheck.Date, p demoPerson) {
	base := root + "/fhir"
	fmt.Fprintf(e.stdout, `
CareBridge demo is running.

  FHIR base    %[1]s
  database     %[2]s
  health       %[3]s/healthz   %[3]s/readyz   metrics %[3]s/metrics

Every request needs a bearer token (SMART backend services). The demo made a key
for each practice, the trust and an operator, in %[8]s; get tokens with
(carebridge is "go run ./cmd/carebridge" in a checkout):
  TOKEN=$(carebridge token access --target %[1]s --client-id %[9]s --key %[8]s/%[9]s.pem)
  OPERATOR=$(carebridge token access --target %[1]s --client-id %[10]s --key %[8]s/%[10]s.pem)

Try, as practice %[11]s:
  curl -s %[1]s/metadata
  curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/Patient/%[5]s/$health-check?date=%[4]s'
  curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|%[11]s&status=requested'
  curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/Task/$changes?owner=https://fhir.nhs.uk/Id/ods-organization-code|%[11]s&_count=10'
  curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/Observation?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|%[6]s'
  curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/$health-check-report?kind=pcn&date=%[4]s'
and as the operator (gateway-wide operations, the audit trail):
  curl -s -X POST -H "Authorization: Bearer $OPERATOR" '%[1]s/$reconcile?date=%[4]s'
  curl -s -H "Authorization: Bearer $OPERATOR" '%[1]s/$outbox?state=dead'
  curl -s -H "Authorization: Bearer $OPERATOR" '%[1]s/AuditEvent?agent=%[9]s&_count=5'
  carebridge report --db %[2]s --config %[7]s --as-of %[4]s

Stop with Ctrl-C.
`, base, redactDB(db), root, today, p.patientID, p.nhs, configFile, clients, demoClientID(p.practice), demoOperator, p.practice)
}
