package rest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter/checkfhir"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/fhir"
)

// handleReconcile serves POST [base]/$reconcile: a full health check run
// at the reference date given as the date parameter (in the query, or a
// Parameters body), today when none; the counts come back as Parameters.
func (s *Server) handleReconcile(c echo.Context) error {
	date := c.QueryParam("date")
	params, err := s.parametersBody(c, "$reconcile")
	if err != nil {
		return err
	}
	for _, p := range params {
		switch p.Str("name") {
		case "date":
			if date = p.Str("valueDate"); date == "" {
				return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "Parameters.parameter.valueDate", "the date parameter needs a valueDate such as 2026-03-31")
			}
		default:
			return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, "Parameters.parameter.name", "$reconcile has no parameter %q; it takes date", p.Str("name"))
		}
	}
	asOf, err := s.referenceDate(date)
	if err != nil {
		return err
	}
	res, err := s.gateway.Reconcile(c.Request().Context(), asOf, 0, nil)
	if err != nil {
		return err
	}
	return writeBody(c, http.StatusOK, fhir.Object(
		fhir.Member{Name: "resourceType", Value: fhir.String("Parameters")},
		fhir.Member{Name: "parameter", Value: fhir.Array(
			part("date", "valueDate", fhir.String(asOf.String())),
			part("people", "valueInteger", fhir.Int(int64(res.People))),
			part("eligible", "valueInteger", fhir.Int(int64(res.Eligible))),
			part("allSixDone", "valueInteger", fhir.Int(int64(res.AllSix))),
			part("tasksRaised", "valueInteger", fhir.Int(int64(res.Raised))),
			part("tasksCompleted", "valueInteger", fhir.Int(int64(res.Completed))),
			part("tasksCancelled", "valueInteger", fhir.Int(int64(res.Cancelled))),
		)},
	).AppendJSON(nil))
}

// referenceDate parses a date parameter; today, where the gateway keeps
// time, when "".
func (s *Server) referenceDate(v string) (healthcheck.Date, error) {
	if v == "" {
		return s.gateway.Today()
	}
	d, err := healthcheck.ParseDate(v)
	if err != nil {
		return d, fhir.Errorf(fhir.Invalid, fhir.IssueValue, "date", "date must be a day such as 2026-03-31, not %q", v)
	}
	return d, nil
}

// handleHealthCheck serves GET [base]/Patient/{id}/$health-check: the
// person's health check at the date parameter (today when none), in the
// mode parameter (the configured one when none), with every component's
// evidence and the open Tasks, as Parameters.
func (s *Server) handleHealthCheck(c echo.Context) error {
	ctx := c.Request().Context()
	asOf, mode, err := s.checkParams(c, "date", "mode")
	if err != nil {
		return err
	}
	nhs, err := s.gateway.PersonOfPatient(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v, open, err := s.gateway.HealthCheck(ctx, nhs, asOf, mode)
	if err != nil {
		return err
	}
	tasks := make([]checkfhir.TaskState, len(open))
	for i, t := range open {
		tasks[i] = checkfhir.TaskState{ID: t.ID, Status: t.Status, BusinessStatus: t.BusinessStatus, Kind: t.Kind, Key: t.Key, Owner: t.Owner}
		if t.Kind == healthcheck.AbnormalResult {
			tasks[i].Measure = t.Subject
		} else {
			tasks[i].Component = sharedcare.Component(t.Subject)
		}
		if d, err := healthcheck.ParseDate(t.Due); err == nil {
			tasks[i].Due = d
		}
	}
	body, err := checkfhir.HealthCheckParameters(v, tasks)
	if err != nil {
		return fmt.Errorf("render the health check of Patient/%s: %w", c.Param("id"), err)
	}
	return writeBody(c, http.StatusOK, body)
}

// handleHealthCheckReport serves GET [base]/$health-check-report: a
// collection Bundle of summary MeasureReports, one per practice, PCN and
// trust, at the date parameter in the mode parameter; kind (practice, pcn
// or trust) and organization (an ODS code) narrow it.
func (s *Server) handleHealthCheckReport(c echo.Context) error {
	asOf, mode, err := s.checkParams(c, "date", "mode", "kind", "organization")
	if err != nil {
		return err
	}
	kind, org := c.QueryParam("kind"), c.QueryParam("organization")
	switch healthcheck.ScopeKind(kind) {
	case "", healthcheck.ScopePractice, healthcheck.ScopePCN, healthcheck.ScopeTrust:
	default:
		return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "kind", "kind must be practice, pcn or trust, not %q", kind)
	}
	summaries, err := s.gateway.Report(c.Request().Context(), asOf, mode)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	entries := []fhir.Value{}
	for _, sum := range summaries {
		if (kind != "" && string(sum.Scope.Kind) != kind) || (org != "" && sum.Scope.Code != org) {
			continue
		}
		body, err := checkfhir.MeasureReport(sum, checkfhir.ReportOptions{RulesVersion: s.gateway.RulesVersion(), Date: now, Names: s.gateway.OrgNames()})
		if err != nil {
			return fmt.Errorf("render the report of %s %s: %w", sum.Scope.Kind, sum.Scope.Code, err)
		}
		res, err := fhir.ParseJSON(body)
		if err != nil {
			return fmt.Errorf("render the report of %s %s: %w", sum.Scope.Kind, sum.Scope.Code, err)
		}
		entries = append(entries, fhir.Object(fhir.Member{Name: "resource", Value: res}))
	}
	return writeBody(c, http.StatusOK, fhir.Object(
		fhir.Member{Name: "resourceType", Value: fhir.String("Bundle")},
		fhir.Member{Name: "type", Value: fhir.String("collection")},
		fhir.Member{Name: "timestamp", Value: fhir.String(fhir.FormatInstant(now))},
		fhir.Member{Name: "total", Value: fhir.Int(int64(len(entries)))},
		fhir.Member{Name: "entry", Value: fhir.Array(entries...)},
	).AppendJSON(nil))
}

// checkParams reads the date and mode query parameters of a health check
// operation, refusing any parameter not in allowed.
func (s *Server) checkParams(c echo.Context, allowed ...string) (healthcheck.Date, healthcheck.Mode, error) {
	for name := range c.QueryParams() {
		if !slices.Contains(allowed, name) && name != "_format" && name != "_pretty" {
			return healthcheck.Date{}, "", fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, name, "parameter %q is not supported here; use %s", name, strings.Join(allowed, ", "))
		}
	}
	asOf, err := s.referenceDate(c.QueryParam("date"))
	if err != nil {
		return asOf, "", err
	}
	mode := healthcheck.Mode(c.QueryParam("mode"))
	switch mode {
	case "", healthcheck.Rolling, healthcheck.QOF:
	default:
		return asOf, "", fhir.Errorf(fhir.Invalid, fhir.IssueValue, "mode", "mode must be rolling or qof, not %q", mode)
	}
	return asOf, mode, nil
}
