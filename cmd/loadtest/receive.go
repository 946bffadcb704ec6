package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// newReceiveCommand answers Subscription notifications: 200 to every
// request, at once, counting them, until stopped.
func newReceiveCommand(stdout io.Writer) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "receive",
		Short: "Accept Subscription notifications (200 to every request) until stopped, then print how many",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var n atomic.Int64
			srv := &http.Server{
				ReadHeaderTimeout: 10 * time.Second,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					n.Add(1)
				}),
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			go func() {
				<-cmd.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			_, err = fmt.Fprintf(stdout, "receive: %d notifications\n", n.Load())
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:18098", "address to listen on")
	return cmd
}
