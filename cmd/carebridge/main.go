// Command carebridge runs the CareBridge FHIR R4 gateway between GP practice
// systems and mental health trusts, and its operational subcommands.
//
// main only sets up signals and the exit code; run does the work, so that
// tests can call it with their own arguments, environment and output.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/London must resolve in a minimal container image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "carebridge:", err)
		os.Exit(1)
	}
}

// run executes one carebridge command line.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root := newRootCommand(getenv, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
