package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter/checkfhir"
	"github.com/carebridge/carebridge/adapter/healthcheck"
)

func newReportCommand(e *env) *cobra.Command {
	var asOf, out string
	var modes []string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the health check report per practice, PCN and trust as CSV",
		Long: `Count everyone's annual SMI physical health check at the reference date, per GP
practice, PCN (from healthCheck.pcns in the configuration) and mental health
trust, in each mode asked for, and write one CSV row per organisation and mode:
the register, the eligible denominator, all six done, and per component done,
due soon, declined, outstanding and done by the trust only, then the abnormal
findings and responsibility. Nothing is changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, date, err := openAtDate(cmd, e, asOf)
			if err != nil {
				return err
			}
			defer a.close()
			var all []healthcheck.Summary
			for _, m := range modes {
				mode := healthcheck.Mode(m)
				if mode != healthcheck.Rolling && mode != healthcheck.QOF {
					return fmt.Errorf("--mode %q: use rolling, qof or both", m)
				}
				s, err := a.gateway.Report(cmd.Context(), date, mode)
				if err != nil {
					return err
				}
				all = append(all, s...)
			}
			w := e.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("report: %w", err)
				}
				defer f.Close()
				bw := bufio.NewWriter(f)
				defer bw.Flush()
				w = bw
			}
			if err := checkfhir.WriteCSV(w, all); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			if out != "" {
				fmt.Fprintf(e.stderr, "report: %d rows at %s written to %s\n", len(all), date, out)
			}
			return nil
		},
	}
	addSettingFlags(cmd.Flags(), "db", "mappings-dir", "default-profile", "timezone", "log-level", "log-format")
	cmd.Flags().StringVar(&asOf, "as-of", "", "reference date YYYY-MM-DD (default: today)")
	cmd.Flags().StringSliceVar(&modes, "mode", []string{"rolling", "qof"}, "window modes to count: rolling, qof or both (comma-separated)")
	cmd.Flags().StringVar(&out, "out", "", "CSV file to write (default: stdout)")
	return cmd
}
