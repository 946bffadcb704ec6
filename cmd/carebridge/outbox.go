package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

func newOutboxCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List Subscription notifications, and deliver dead ones again",
		Long: `The outbox holds one entry per Subscription notification: pending until it is
delivered, or dead once every attempt has failed (the dead-letter list). A
running gateway delivers what redrive makes pending again within a second.`,
	}
	cmd.AddCommand(newOutboxListCommand(e), newOutboxRedriveCommand(e))
	return cmd
}

func newOutboxListCommand(e *env) *cobra.Command {
	var q store.OutboxQuery
	var state string
	var dead bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List notifications, oldest first",
		Long: `List the notifications in the outbox, oldest first: id, state, Subscription,
the resource version notified, attempts made, WHEN (the next attempt of a pending
notification, the delivery of a delivered one, the last attempt of a dead one)
and the last error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dead {
				state = string(store.OutboxDead)
			}
			q.State = store.OutboxState(state)
			a, err := openApp(cmd, e)
			if err != nil {
				return err
			}
			defer a.close()
			page, err := a.gateway.Outbox(cmd.Context(), q)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tSUBSCRIPTION\tRESOURCE\tATTEMPTS\tWHEN\tLAST ERROR")
			for _, n := range page.Entries {
				when := n.NextAttempt
				if n.State == store.OutboxDelivered {
					when = n.Delivered
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s/_history/%d\t%d\t%s\t%s\n", n.ID, n.State, n.Subscription,
					n.Type, n.ResourceID, n.ResourceVersion, n.Attempts, fhir.FormatInstant(when), n.LastError)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if page.Next != "" {
				_, err = fmt.Fprintf(e.stdout, "more: carebridge outbox list --after %s\n", page.Next)
			}
			return err
		},
	}
	addSettingFlags(cmd.Flags(), "db", "log-level", "log-format")
	cmd.Flags().StringVar(&state, "state", "", "only notifications in this state: pending, delivered or dead")
	cmd.Flags().BoolVar(&dead, "dead", false, "only dead notifications (the dead-letter list)")
	cmd.Flags().StringVar(&q.Subscription, "subscription", "", "only the notifications of this Subscription id")
	cmd.Flags().StringVar(&q.After, "after", "", "start after this notification id (to page on)")
	cmd.Flags().IntVar(&q.Count, "limit", 100, "most notifications to list")
	return cmd
}

func newOutboxRedriveCommand(e *env) *cobra.Command {
	var sel store.OutboxSelection
	cmd := &cobra.Command{
		Use:   "redrive",
		Short: "Deliver dead notifications again, from the first attempt",
		Long: `Make dead notifications pending again, from their first attempt: those with
the given ids (--id, repeated), those of a Subscription (--subscription), or
all of them (--all). Name one of these.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e)
			if err != nil {
				return err
			}
			defer a.close()
			redriven, err := a.gateway.Redrive(cmd.Context(), sel)
			if err != nil {
				return err
			}
			ids := make([]string, len(redriven))
			for i, n := range redriven {
				ids[i] = n.ID
			}
			_, err = fmt.Fprintf(e.stdout, "redriven %s: %s\n", plural(len(ids), "notification"), strings.Join(ids, " "))
			return err
		},
	}
	addSettingFlags(cmd.Flags(), "db", "log-level", "log-format")
	cmd.Flags().StringSliceVar(&sel.IDs, "id", nil, "a dead notification's id (repeat, or separate with commas)")
	cmd.Flags().StringVar(&sel.Subscription, "subscription", "", "every dead notification of this Subscription id")
	cmd.Flags().BoolVar(&sel.All, "all", false, "every dead notification")
	return cmd
}

// plural writes n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
