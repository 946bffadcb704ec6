package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/fhir"
)

func capabilityStatement(cfg Config, healthCheck bool) []byte {
	opt := fhir.CapabilityOptions{Version: cfg.Version, Date: time.Now(), HealthCheck: healthCheck}
	if cfg.Auth != nil {
		opt.TokenURL = cfg.TokenURL
	}
	return fhir.CapabilityStatement(opt)
}

// handleMetadata serves GET [base]/metadata.
func (s *Server) handleMetadata(c echo.Context) error {
	return writeBody(c, http.StatusOK, s.capability)
}

// handleHealthz answers while the process runs.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the database answers within two seconds,
// 503 otherwise.
func (s *Server) handleReadyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.gateway.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: the database does not answer", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "the database does not answer"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
