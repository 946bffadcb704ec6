package rest

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/fhir"
)

// handleRead serves GET [base]/Type/id.
func (s *Server) handleRead(c echo.Context) error {
	r, err := s.gateway.Read(c.Request().Context(), c.Param("type"), c.Param("id"))
	if err != nil {
		return err
	}
	versionHeaders(c, r)
	return writeBody(c, http.StatusOK, r.Body)
}

// handleVRead serves GET [base]/Type/id/_history/vid.
func (s *Server) handleVRead(c echo.Context) error {
	vid, err := strconv.ParseInt(c.Param("vid"), 10, 64)
	if err != nil || vid < 1 {
		return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "%q is not a version number", c.Param("vid"))
	}
	r, err := s.gateway.VRead(c.Request().Context(), c.Param("type"), c.Param("id"), vid)
	if err != nil {
		return err
	}
	versionHeaders(c, r)
	return writeBody(c, http.StatusOK, r.Body)
}
