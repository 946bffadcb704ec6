// Package rest is CareBridge's HTTP face: the Echo server, its routes,
// middleware (request ids, logs, metrics, limits) and one handler per FHIR
// interaction. Handlers are thin: decode the request, call one Gateway method,
// encode the answer. The mapping from fhir.Kind to HTTP status and
// OperationOutcome lives in errors.go and nowhere else.
package rest

import (
	"context"
	"errors"
	"log"
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
	// MaxBodyBytes bounds request bodies, chunked or not; larger ones get 413.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers; net/http answers
	// 431 beyond it.
	MaxHeaderBytes int
	// MaxURLBytes bounds the request target (path and query); longer ones
	// get 414.
	MaxURLBytes int
	// Timeouts of the http.Server: reading the headers, reading the whole
	// request, writing the response (counted from the end of the headers)
	// and keeping an idle connection open. The write timeout of a long poll
	// is extended by its wait.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// RequestTimeout is the deadline of a handler's work; a long poll gets
	// its wait on top. A request that runs out of time gets 503.
	RequestTimeout time.Duration
	// RateLimit limits requests to the FHIR API per client.
	RateLimit RateLimit
	// ClientIDs are the ids of the configured clients: the only client
	// labels the metrics use, so that their number stays bounded.
	ClientIDs []string
	// TLS, when its certificate is set, serves HTTPS (and mutual TLS with a
	// client CA).
	TLS TLSFiles
	// ShutdownTimeout bounds how long in-flight requests may run after a stop
	// is asked for.
	ShutdownTimeout time.Duration
	// Version is the software version shown in the CapabilityStatement.
	Version string
	// Auth authenticates requests; nil runs without authentication
	// (every request acts as one anonymous client, unrestricted).
	Auth Authenticator
	// TokenURL is the public URL of the token endpoint, for the
	// CapabilityStatement's security section.
	TokenURL string
	// ProfileSources are the meta.source of each mapping profile, by
	// profile id: what the gateway stamps, with "#" and the client id, on
	// what a client writes.
	ProfileSources map[string]string
}

// Defaults used where a Config field is zero. The write timeout leaves a
// handler that runs out of time room to answer; long polls extend theirs.
const (
	DefaultMaxBodyBytes      = 16 << 20
	DefaultMaxHeaderBytes    = 32 << 10
	DefaultMaxURLBytes       = 8 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 90 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultRequestTimeout    = 60 * time.Second
	DefaultShutdownTimeout   = 20 * time.Second
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
	// limiter holds the rate limit buckets; nil when rate limits are off.
	limiter *limiter
	// clientLabels are the client ids metrics may name.
	clientLabels map[string]bool
	// certs are the TLS certificates; nil when serving plain HTTP.
	certs *certificates
}

// withDefaults fills the zero fields of c with the defaults.
func (c Config) withDefaults() Config {
	orDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	orDefault(&c.MaxURLBytes, DefaultMaxURLBytes)
	orDefault(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	orDefault(&c.ReadTimeout, DefaultReadTimeout)
	orDefault(&c.WriteTimeout, DefaultWriteTimeout)
	orDefault(&c.IdleTimeout, DefaultIdleTimeout)
	orDefault(&c.RequestTimeout, DefaultRequestTimeout)
	orDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	return c
}

// orDefault sets *v to def when it is zero or less.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// NewServer returns a Server for gateway. Metrics are registered on reg.
func NewServer(cfg Config, gateway *adapter.Gateway, log *slog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer) (*Server, error) {
	cfg = cfg.withDefaults()
	log = slog.New(redactingHandler{log.Handler()})
	var certs *certificates
	if cfg.TLS != (TLSFiles{}) {
		var err error
		if certs, err = loadCertificates(cfg.TLS, log); err != nil {
			return nil, err
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, gateway: gateway, log: log, metrics: m, stopping: make(chan struct{}),
		limiter: newLimiter(cfg.RateLimit, time.Now), clientLabels: clientLabels(cfg), certs: certs}
	s.capability = capabilityStatement(cfg, gateway.HealthCheckEnabled())
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Logger.SetOutput(stdLogWriter{log: log, source: "echo"})
	s.echo = e
	s.routes(gatherer)
	return s, nil
}

// ServeHTTP lets the Server be used as an http.Handler, in tests and behind
// other servers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve accepts connections on l until ctx is done, then stops accepting,
// lets in-flight requests finish (up to ShutdownTimeout) and returns. It
// speaks HTTPS when the Config has a TLS certificate.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          log.New(stdLogWriter{log: s.log, source: "net/http"}, "", 0),
	}
	errc := make(chan error, 1)
	if s.certs != nil {
		srv.TLSConfig = s.certs.serverConfig()
		go func() { errc <- srv.ServeTLS(l, "", "") }()
	} else {
		go func() { errc <- srv.Serve(l) }()
	}
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
