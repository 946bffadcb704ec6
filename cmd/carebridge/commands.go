package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// env carries what every command needs from the outside world.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

func newRootCommand(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "carebridge",
		Short: "FHIR R4 gateway between GP practices and mental health trusts",
		Long: `CareBridge keeps one shared-care picture of each person on the serious mental
illness register and reconciles their annual physical health check between
GP practices and mental health trusts.

Every flag can also be set with an environment variable named CAREBRIDGE_ and
the flag in capitals (--db is CAREBRIDGE_DB), or in the YAML file given by
--config. Flags win over the environment, which wins over the file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newServeCommand(e),
		newDemoCommand(e),
		newMigrateCommand(e),
		newVersionCommand(e),
		newHealthcheckCommand(e),
		newMappingsCommand(e),
		newReindexCommand(e),
		newReconcileCommand(e),
		newReportCommand(e),
		newSynthCommand(e),
		newOutboxCommand(e),
		newKeysCommand(e),
		newTokenCommand(e),
	)
	return root
}

func newVersionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "carebridge %s (commit %s, %s)\n", version, commit, runtime.Version())
			return err
		},
	}
}
