// Command conformance is CareBridge's conformance kit: it runs suites of
// YAML scenarios against a FHIR server and reports what passed. See
// conformance/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/conformance"
)

// Exit statuses.
const (
	exitPassed   = 0
	exitFailed   = 1
	exitCannotGo = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// testsFailed is returned by run when the run took place and some test
// failed.
var testsFailed = errors.New("some tests failed")

// execute runs the command line and gives the exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "conformance",
		Short:         "CareBridge conformance kit: run scenario suites against a FHIR server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCommand(stdout), newListCommand(stdout), newCheckCommand(stdout), newInitCommand(stdout))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitPassed
	case errors.Is(err, testsFailed):
		return exitFailed
	}
	fmt.Fprintln(stderr, "conformance:", err)
	return exitCannotGo
}

// runFlags are the flags of run.
type runFlags struct {
	target, token, clientID, key, scope, tokenURL, actors string
	insecure, failFast                                    bool
	suites, vars                                          []string
	tags, junit, html, json                               string
	timeout                                               time.Duration
}

func newRunCommand(stdout io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run suites against a server and report",
		Long: `Run the selected tests against the FHIR server at --target and report them.
Exit status: 0 when every selected test passed, 1 when any failed, 2 when the
run could not take place.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "FHIR base of the server under test, e.g. http://127.0.0.1:8080/fhir (required)")
	fl.StringVar(&f.token, "token", "", "bearer token of the default actor")
	fl.StringVar(&f.clientID, "client-id", "", "SMART backend services client id of the default actor (with --key)")
	fl.StringVar(&f.key, "key", "", "the default actor's private key, PEM PKCS#8 (with --client-id)")
	fl.StringVar(&f.scope, "scope", "", "scopes the default actor asks for (default: all it is allowed)")
	fl.StringVar(&f.tokenURL, "token-url", "", "token endpoint (default: from /.well-known/smart-configuration)")
	fl.StringVar(&f.actors, "actors", "", "actors file (conformance init writes one)")
	fl.BoolVar(&f.insecure, "insecure-no-auth", false, "send no credentials as the default actor")
	fl.StringArrayVar(&f.suites, "suite", nil, "a built-in suite's name or a suite folder (repeatable; default: every built-in suite)")
	fl.StringVar(&f.tags, "tags", "", `select tests by tag: "fhir-r4", "security,tasks", "!carebridge"`)
	fl.StringArrayVar(&f.vars, "var", nil, "NAME=VALUE variable (repeatable)")
	fl.StringVar(&f.junit, "junit", "", "write a JUnit XML report to FILE")
	fl.StringVar(&f.html, "html", "", "write an HTML report to FILE")
	fl.StringVar(&f.json, "json", "", "write a JSON report to FILE")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "time limit of each request")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failed test")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func run(ctx context.Context, f runFlags, stdout io.Writer) error {
	actors, err := actorsFrom(f)
	if err != nil {
		return err
	}
	suites, err := conformance.LoadSuites(f.suites)
	if err != nil {
		return err
	}
	vars := map[string]string{}
	for _, v := range f.vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return fmt.Errorf("--var %q: give NAME=VALUE", v)
		}
		vars[name] = value
	}
	console := conformance.Console{W: stdout, Live: isTerminal(stdout)}
	fmt.Fprintf(stdout, "Conformance run against %s: %d suites\n", f.target, len(suites))
	report, err := conformance.Run(ctx, conformance.Options{
		Target: f.target, Actors: actors, Suites: suites, Tags: conformance.ParseTags(f.tags), Vars: vars,
		Timeout: f.timeout, TokenURL: f.tokenURL, FailFast: f.failFast,
		Progress: console.Progress, Starting: console.Starting,
	})
	if report == nil {
		return err
	}
	console.Summary(report)
	for _, out := range []struct {
		file  string
		write func(io.Writer) error
	}{{f.junit, report.WriteJUnit}, {f.html, report.WriteHTML}, {f.json, report.WriteJSON}} {
		if out.file == "" {
			continue
		}
		if werr := writeFile(out.file, out.write); werr != nil {
			return werr
		}
		fmt.Fprintf(stdout, "report: %s\n", out.file)
	}
	if err != nil {
		return err
	}
	if !report.Passed() {
		return testsFailed
	}
	return nil
}

// isTerminal reports whether w is a terminal, where the running test can be
// shown live.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", name, err)
	}
	return f.Close()
}

// actorsFrom makes the run's actors from --actors and the default actor's
// flags.
func actorsFrom(f runFlags) (map[string]*conformance.Actor, error) {
	actors := map[string]*conformance.Actor{}
	if f.actors != "" {
		var err error
		if actors, err = conformance.LoadActors(f.actors); err != nil {
			return nil, err
		}
	}
	var spec *conformance.ActorSpec
	switch {
	case f.token != "" && f.clientID != "":
		return nil, errors.New("give --token or --client-id with --key, not both")
	case f.token != "":
		spec = &conformance.ActorSpec{Token: f.token}
	case f.clientID != "" || f.key != "":
		if f.clientID == "" || f.key == "" {
			return nil, errors.New("--client-id and --key go together")
		}
		spec = &conformance.ActorSpec{ClientID: f.clientID, Key: f.key, Scope: f.scope}
	case f.insecure:
		spec = &conformance.ActorSpec{Anonymous: true}
	}
	if spec != nil {
		a, err := conformance.NewActor("default", *spec)
		if err != nil {
			return nil, err
		}
		actors["default"] = a
	}
	if actors["default"] == nil {
		return nil, errors.New("no credentials: give --token, --client-id and --key, --actors FILE, or --insecure-no-auth")
	}
	return actors, nil
}

func newListCommand(stdout io.Writer) *cobra.Command {
	var suites []string
	var tags string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the suites and tests a run would select, with their tags",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all, err := conformance.LoadSuites(suites)
			if err != nil {
				return err
			}
			filter := conformance.ParseTags(tags)
			for _, s := range all {
				fmt.Fprintf(stdout, "%s: %s\n", s.Name, s.Title)
				for _, sc := range s.Scenarios {
					for _, t := range sc.Tests {
						tt := sc.TestTags(t)
						if filter.Match(tt) {
							sort.Strings(tt)
							fmt.Fprintf(stdout, "  %s › %s  [%s]\n", strings.TrimSuffix(sc.File, ".yaml"), t.Name, strings.Join(tt, " "))
						}
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&suites, "suite", nil, "a built-in suite's name or a suite folder (repeatable)")
	cmd.Flags().StringVar(&tags, "tags", "", "select tests by tag")
	return cmd
}

func newCheckCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "check [DIR...]",
		Short: "Load suite folders (default: the built-in suites) and report every mistake in them",
		RunE: func(_ *cobra.Command, dirs []string) error {
			suites, err := conformance.LoadSuites(dirs)
			if err != nil {
				return err
			}
			n := 0
			for _, s := range suites {
				for _, sc := range s.Scenarios {
					n += len(sc.Tests)
				}
			}
			fmt.Fprintf(stdout, "%d suites, %d tests: no mistakes found\n", len(suites), n)
			return nil
		},
	}
}

func newInitCommand(stdout io.Writer) *cobra.Command {
	var o conformance.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write keys, a gateway configuration and actors.yaml for testing a CareBridge deployment",
		Long: `Write into --out: the gateway's signing key (gateway-keys/), a key pair per
kit actor (clients/), carebridge.yaml (auth.clients for those actors, their
rate limits and the PCN the suites report on) and actors.yaml (the kit's side).
Start the gateway with --config OUT/carebridge.yaml and run the kit with
--actors OUT/actors.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			err := conformance.Init(o)
			if errors.Is(err, conformance.ErrKept) {
				fmt.Fprintf(stdout, "%s is already initialised: kept as it is\n", o.Dir)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s/carebridge.yaml (for the gateway) and %s/actors.yaml (for the kit)\n", o.Dir, o.Dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Dir, "out", "", "directory to write into (required)")
	cmd.Flags().StringVar(&o.GatewayDir, "gateway-dir", "", "where the gateway sees --out, when elsewhere (a container's mount)")
	cmd.Flags().StringVar(&o.BaseURL, "base-url", "", "the gateway's base URL, written as baseUrl")
	cmd.Flags().BoolVar(&o.KeepExisting, "keep-existing", false, "leave an already initialised --out as it is (exit 0)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
