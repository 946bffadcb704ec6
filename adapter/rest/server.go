// Package rest is CareBridge's HTTP face: the Echo server, its routes,
// middleware (request ids, logs, metrics, limits) and one handler per FHIR
// interaction. Handlers are thin: decode the request, call one Gateway method,
// encode the answer. The mapping from fhir.Kind to HTTP status and
// OperationOutcome lives in errors.go and nowhere else.
package rest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
)

// Config tunes the HTTP server.
type Config struct {
	// BaseURL is the public FHIR base, e.g. https://carebridge.example.nhs.uk/fhir,
	// used in Location headers and Bundle links. When empty it is derived from
	// each request's Host.
	BaseURL string
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Timeouts of the http.Server.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight requests may run after a stop
	// is asked for.
	ShutdownTimeout time.Duration
	// Version is the software version shown in the CapabilityStatement.
	Version string
	// Auth authenticates requests; nil runs without authentication
	// (every request acts as one anonymous client, unrestricted).
	Auth Authenticator
	// ProfileSources are the meta.source of each mapping profile, by
	// profile id: what the gateway stamps, with "#" and the client id, on
	// what a client writes.
	ProfileSources map[string]string
}

// Defaults used where a Config field is zero.
const (
	DefaultMaxBodyBytes    = 16 << 20
	DefaultShutdownTimeout = 20 * time.Second
)

// Server serves CareBridge's HTTP API.
type Server struct {
	cfg        Config
	gateway    *adapter.Gateway
	log        *slog.Logger
	echo       *echo.Echo
	metrics    *metrics
	capability []byte // the CapabilityStatement, built once
	// stopping is closed when the server begins to shut down, which ends
	// the waits of long polls.
	stopping chan struct{}
	stopOnce sync.Once
}

// NewServer returns a Server for gateway. Metrics are registered on reg.
func NewServer(cfg Config, gateway *adapter.Gateway, log *slog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, gateway: gateway, log: log, metrics: m, stopping: make(chan struct{})}
	s.capability = capabilityStatement(cfg, gateway.HealthCheckEnabled())
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.echo = e
	s.routes(gatherer)
	return s, nil
}

// ServeHTTP lets the Server be used as an http.Handler, in tests and behind
// other servers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve accepts connections on l until ctx is done, then stops accepting,
// lets in-flight requests finish (up to ShutdownTimeout) and returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.stopOnce.Do(func() { close(s.stopping) })
	s.log.Info("shutting down: no new connections, finishing requests in flight", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
