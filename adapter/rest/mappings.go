package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/fhir"
)

// handleUnmapped serves GET [base]/$unmapped: what the mapping profiles
// could not map in current resources, counted per profile, kind, system and
// code, as a Parameters resource.
func (s *Server) handleUnmapped(c echo.Context) error {
	report, err := s.gateway.UnmappedReport(c.Request().Context())
	if err != nil {
		return err
	}
	params := make([]fhir.Value, 0, len(report))
	for _, r := range report {
		parts := []fhir.Value{
			part("profile", "valueString", fhir.String(r.Profile)),
			part("kind", "valueCode", fhir.String(r.What)),
		}
		if r.System != "" {
			parts = append(parts, part("system", "valueUri", fhir.String(r.System)))
		}
		if r.Code != "" {
			parts = append(parts, part("code", "valueString", fhir.String(r.Code)))
		}
		parts = append(parts, part("resources", "valueInteger", fhir.Int(int64(r.Count))))
		params = append(params, fhir.Object(
			fhir.Member{Name: "name", Value: fhir.String("item")},
			fhir.Member{Name: "part", Value: fhir.Array(parts...)},
		))
	}
	members := []fhir.Member{{Name: "resourceType", Value: fhir.String("Parameters")}}
	if len(params) > 0 {
		members = append(members, fhir.Member{Name: "parameter", Value: fhir.Array(params...)})
	}
	return writeBody(c, http.StatusOK, fhir.Object(members...).AppendJSON(nil))
}

func part(name, valueType string, v fhir.Value) fhir.Value {
	return fhir.Object(fhir.Member{Name: "name", Value: fhir.String(name)}, fhir.Member{Name: valueType, Value: v})
}
