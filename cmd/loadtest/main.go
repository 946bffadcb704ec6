// Command loadtest measures a running CareBridge gateway from outside, over
// HTTP, and the same machine's storage ceiling without HTTP. BENCHMARKS.md
// quotes its output and the command lines that produced it.
//
//	loadtest ingest  --target URL   transaction Bundles of mixed resources: resources/s
//	loadtest create  --target URL   single Patient creates, one at a time: latency
//	loadtest ceiling --db DB        decode + insert of the same resources, no HTTP, no index
//	loadtest poll    --target URL   Tasks over many practices polled open-loop: requests/s, p50, p99
//	loadtest receive --addr ADDR    a Subscription endpoint that accepts every notification
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "loadtest",
		Short:         "Measure CareBridge ingest and polling throughput and latency",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newIngestCommand(stdout, stderr), newCreateCommand(stdout, stderr), newCeilingCommand(stdout, stderr),
		newPollCommand(stdout, stderr), newReceiveCommand(stdout))
	return root
}
