package rest

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carebridge/carebridge/fhir"
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
	f.Any("/*", handleNoRoute)
}

// handleNoRoute answers what no route takes: 405 with Allow when the path
// is one the API serves with other methods, else 404.
func handleNoRoute(c echo.Context) error {
	allowed := allowedMethods(strings.Split(strings.Trim(c.Param("*"), "/"), "/"))
	if allowed == "" {
		return echo.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderAllow, allowed)
	return errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; it takes %s", c.Request().Method, c.Request().URL.Path, allowed)
}

// allowedMethods lists the methods the routes above take on a path of a
// served type, by its segments after /fhir; "" when the path is not one.
func allowedMethods(segs []string) string {
	if len(segs) == 0 || !fhir.Served(segs[0]) {
		return ""
	}
	switch {
	case len(segs) == 1:
		return "GET, POST, PUT, DELETE"
	case len(segs) == 2 && segs[1] == "_search":
		return "POST"
	case len(segs) == 2 && segs[1] == "_history":
		return "GET"
	case len(segs) == 2 && !strings.HasPrefix(segs[1], "$"):
		return "GET, PUT, DELETE"
	case len(segs) == 3 && segs[2] == "_history", len(segs) == 4 && segs[2] == "_history":
		return "GET"
	case len(segs) == 3 && segs[0] == "Patient" && segs[2] == "$health-check":
		return "GET"
	}
	return ""
}

func (s *Server) handlePatch(c echo.Context) error {
	return errorf(http.StatusMethodNotAllowed, "PATCH is not supported; send the whole resource with PUT")
}
