package rest

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the API.
func (s *Server) routes(gatherer prometheus.Gatherer) {
	e := s.echo
	e.Use(s.requestID, s.recoverPanic, s.observe, securityHeaders, s.limitRequest, s.deadline, s.authenticate)

	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})))

	// The token endpoint is limited by remote address: no client is known yet.
	e.POST("/auth/token", s.handleToken, s.rateLimit)
	e.GET("/auth/jwks", s.handleJWKS)
	e.GET("/.well-known/smart-configuration", s.handleSMARTConfiguration)

	// authenticate runs before rateLimit: the bucket is the client's.
	f := e.Group("/fhir", s.rateLimit, s.negotiate)
	f.GET("/metadata", s.handleMetadata)
	f.GET("/.well-known/smart-configuration", s.handleSMARTConfiguration)
	f.GET("/AuditEvent", s.handleAuditEvents)
	f.POST("", s.handleBundle)
	f.GET("/$unmapped", s.handleUnmapped, s.operatorOnly)
	f.POST("/$reconcile", s.handleReconcile, s.operatorOnly)
	f.GET("/$health-check-report", s.handleHealthCheckReport)
	f.GET("/Patient/:id/$health-check", s.handleHealthCheck)
	f.GET(strings.TrimPrefix(changesRoute, "/fhir"), s.handleTaskChanges)
	f.GET("/$outbox", s.handleOutbox, s.operatorOnly)
	f.POST("/$redrive", s.handleRedrive, s.operatorOnly)

	f.GET("/:type", s.handleSearch)
	f.POST("/:type/_search", s.handleSearchPost)
	f.POST("/:type", s.handleCreate)
	f.PUT("/:type", s.handleConditionalUpdate)
	f.DELETE("/:type", s.handleConditionalDelete)
	f.GET("/:type/_history", s.handleTypeHistory)

	f.GET("/:type/:id", s.handleRead)
	f.PUT("/:type/:id", s.handleUpdate)
	f.DELETE("/:type/:id", s.handleDelete)
	f.GET("/:type/:id/_history", s.handleInstanceHistory)
	f.GET("/:type/:id/_history/:vid", s.handleVRead)

	// PATCH is not supported; say so with an OperationOutcome rather than a bare 405.
	f.PATCH("/:type/:id", s.handlePatch)
	f.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

func (s *Server) handlePatch(c echo.Context) error {
	return errorf(http.StatusMethodNotAllowed, "PATCH is not supported; send the whole resource with PUT")
}
