package main

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/spf13/cobra"
)

func newHealthcheckCommand(e *env) *cobra.Command {
	var target string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when a gateway answers its health endpoint",
		Long: `Ask a running gateway's health endpoint and exit 0 when it answers 200.
Container images use it as their HEALTHCHECK, so they need no shell or curl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := retryingClient(timeout)
			req, err := retryablehttp.NewRequestWithContext(cmd.Context(), http.MethodGet, target, nil)
			if err != nil {
				return err
			}
			res, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("health check %s: %w", target, err)
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("health check %s: status %d", target, res.StatusCode)
			}
			_, err = fmt.Fprintln(e.stdout, "healthy")
			return err
		},
	}
	cmd.Flags().StringVar(&target, "url", "http://127.0.0.1:8080/healthz", "health endpoint to ask")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "time allowed for each attempt")
	return cmd
}

// retryingClient makes a few quick retries of a failed request, each
// attempt bounded by timeout; it logs nothing.
func retryingClient(timeout time.Duration) *retryablehttp.Client {
	client := retryablehttp.NewClient()
	client.RetryMax = 2
	client.RetryWaitMin, client.RetryWaitMax = 200*time.Millisecond, time.Second
	client.HTTPClient.Timeout = timeout
	client.Logger = nil
	return client
}
