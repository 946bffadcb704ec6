package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/mappings"
)

func newMappingsCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mappings",
		Short: "Check and list mapping profiles",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE...",
		Short: "Check mapping profile files: schema, SNOMED CT ids, conflicting rows",
		Long: `Check mapping profile files. Every problem is printed as FILE:LINE: message:
unknown or misspelt keys, missing fields, SNOMED CT target ids that are not
well-formed concept ids (length, partition, Verhoeff check digit), unknown unit
conversions, and rows that conflict with or repeat another. Exits non-zero when
any file has a problem.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			failed := 0
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				p, err := mappings.ParseProfile(f, data)
				if pe, ok := errors.AsType[*mappings.ProfileError](err); ok {
					failed++
					fmt.Fprintln(e.stdout, pe.Error())
					continue
				} else if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s: ok (profile %s, %s side, %d code maps, %d unit rules)\n", f, p.ID, p.Side, len(p.Codes.Maps), len(p.Units))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d profiles have problems", failed, len(files))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the mapping profiles shipped with CareBridge",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			profiles, err := mappings.ShippedProfiles()
			if err != nil {
				return err
			}
			cs, err := mappings.DefaultCodeSets()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "code sets %s\n", cs.Version)
			for _, p := range profiles {
				fmt.Fprintf(e.stdout, "%-20s %-9s %s (sources: %v)\n", p.ID, p.Side, p.Name, p.Sources)
			}
			return nil
		},
	})
	cmd.AddCommand(newUnmappedCommand(e))
	return cmd
}
