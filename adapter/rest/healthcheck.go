package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/fhir"
)

// handleReconcile serves POST [base]/$reconcile: a full health check run
// at the reference date given as the date parameter (in the query, or a
// Parameters body), today when none; the counts come back as Parameters.
func (s *Server) handleReconcile(c echo.Context) error {
	date := c.QueryParam("date")
	body, err := s.readOptionalBody(c)
	if err != nil {
		return err
	}
	if len(body) > 0 {
		params, err := fhir.DecodeResource(body)
		if err != nil {
			return err
		}
		if rt := params.Str("resourceType"); rt != "Parameters" {
			return fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, "resourceType", "$reconcile takes a Parameters resource, not a %s", rt)
		}
		list, _ := params.Get("parameter")
		for _, p := range list.Items() {
			switch p.Str("name") {
			case "date":
				if date = p.Str("valueDate"); date == "" {
					return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "Parameters.parameter.valueDate", "the date parameter needs a valueDate such as 2026-03-31")
				}
			default:
				return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, "Parameters.parameter.name", "$reconcile has no parameter %q; it takes date", p.Str("name"))
			}
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
			param("date", "valueDate", fhir.String(asOf.String())),
			param("people", "valueInteger", fhir.Int(int64(res.People))),
			param("eligible", "valueInteger", fhir.Int(int64(res.Eligible))),
			param("allSixDone", "valueInteger", fhir.Int(int64(res.AllSix))),
			param("tasksRaised", "valueInteger", fhir.Int(int64(res.Raised))),
			param("tasksCompleted", "valueInteger", fhir.Int(int64(res.Completed))),
			param("tasksCancelled", "valueInteger", fhir.Int(int64(res.Cancelled))),
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

// param is one Parameters.parameter with a value.
func param(name, valueType string, v fhir.Value) fhir.Value { return part(name, valueType, v) }
