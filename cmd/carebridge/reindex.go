package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newReindexCommand(e *env) *cobra.Command {
	var batch int
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the shared-care projection from the stored resources",
		Long: `Rebuild every person's shared-care record from the stored resources, through
the mapping profiles now configured: after a profile changes, or to check that
the projection kept while writing equals one rebuilt from scratch. Progress goes
to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e)
			if err != nil {
				return err
			}
			defer a.close()
			start := time.Now()
			last := start
			n, err := a.gateway.Reindex(cmd.Context(), batch, func(done int) {
				if time.Since(last) >= time.Second {
					last = time.Now()
					fmt.Fprintf(e.stderr, "reindex: %d resources mapped (%s)\n", done, time.Since(start).Round(time.Second))
				}
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "reindexed %d resources in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	addSettingFlags(cmd.Flags(), "db", "mappings-dir", "default-profile", "log-level", "log-format")
	cmd.Flags().IntVar(&batch, "batch", 500, "resources per transaction")
	return cmd
}

func newUnmappedCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unmapped",
		Short: "List what the mapping profiles could not map, with counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e)
			if err != nil {
				return err
			}
			defer a.close()
			report, err := a.gateway.UnmappedReport(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROFILE\tKIND\tSYSTEM\tCODE\tRESOURCES")
			for _, r := range report {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Profile, r.What, r.System, r.Code, r.Count)
			}
			return tw.Flush()
		},
	}
	addSettingFlags(cmd.Flags(), "db", "log-level", "log-format")
	return cmd
}

// openApp resolves a command's configuration and wires the gateway's parts,
// for commands that work on the database without serving.
func openApp(cmd *cobra.Command, e *env) (*app, error) {
	cfg, err := loadConfig(cmd.Flags(), e.getenv)
	if err != nil {
		return nil, err
	}
	return newApp(cmd.Context(), cfg, e.stderr)
}
