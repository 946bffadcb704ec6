package rest

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// fhirJSON is the media type of every response body.
const fhirJSON = "application/fhir+json; charset=utf-8"

// writeBody writes a FHIR JSON body, indented when _pretty=true.
func writeBody(c echo.Context, status int, body []byte) error {
	if c.QueryParam("_pretty") == "true" {
		body = fhir.Indent(body)
	}
	return c.Blob(status, fhirJSON, body)
}

// returnPref is the Prefer: return= preference.
type returnPref uint8

const (
	returnRepresentation returnPref = iota
	returnMinimal
	returnOutcome
)

// preferences reads the Prefer header: return=minimal|representation|
// OperationOutcome and handling=strict|lenient.
func preferences(c echo.Context) (ret returnPref, explicit bool, lenient bool) {
	eachPreference(c, func(k, v string) {
		switch k {
		case "return":
			explicit = true
			switch v {
			case "minimal":
				ret = returnMinimal
			case "OperationOutcome":
				ret = returnOutcome
			default:
				ret = returnRepresentation
			}
		case "handling":
			lenient = v == "lenient"
		}
	})
	return ret, explicit, lenient
}

// eachPreference calls fn with each preference of the Prefer headers: its
// name in lower case and its value, unquoted.
func eachPreference(c echo.Context, fn func(name, value string)) {
	for _, h := range c.Request().Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			fn(strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
}

// base returns the FHIR base URL for links and Location headers.
func (s *Server) base(c echo.Context) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host + "/fhir"
}

// versionHeaders sets ETag and Last-Modified for a version.
func versionHeaders(c echo.Context, r store.Resource) {
	h := c.Response().Header()
	h.Set("ETag", fhir.ETag(r.VersionID))
	h.Set("Last-Modified", r.LastUpdated.UTC().Format(http.TimeFormat))
}

// location is the versioned URL of a resource version.
func (s *Server) location(c echo.Context, r store.Resource) string {
	return s.base(c) + "/" + r.Type + "/" + r.ID + "/_history/" + strconv.FormatInt(r.VersionID, 10)
}

// readBody reads a request body up to the configured limit.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	body, err := s.readOptionalBody(c)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, fhir.Errorf(fhir.Invalid, fhir.IssueRequired, "", "the request has no body; send a FHIR resource")
	}
	return body, nil
}

// readOptionalBody reads a request body, which may be empty; limitRequest
// has cut it at the configured limit.
func (s *Server) readOptionalBody(c echo.Context) ([]byte, error) {
	return io.ReadAll(c.Request().Body)
}

// parametersBody reads the optional Parameters body of operation op and
// returns its parameters; none when there is no body.
func (s *Server) parametersBody(c echo.Context, op string) ([]fhir.Value, error) {
	body, err := s.readOptionalBody(c)
	if err != nil || len(body) == 0 {
		return nil, err
	}
	params, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, err
	}
	if rt := params.Str("resourceType"); rt != "Parameters" {
		return nil, fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, "resourceType", "%s takes a Parameters resource, not a %s", op, rt)
	}
	list, _ := params.Get("parameter")
	return list.Items(), nil
}

// decodeResource reads and validates the body of a create or update, which
// must be a resource of the type the URL names.
func (s *Server) decodeResource(c echo.Context, typ string) (fhir.Value, error) {
	body, err := s.readBody(c)
	if err != nil {
		return fhir.Value{}, err
	}
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return fhir.Value{}, err
	}
	if rt := res.Str("resourceType"); rt != typ {
		return fhir.Value{}, fhir.Errorf(fhir.Invalid, fhir.IssueInvalid, "resourceType",
			"the body is a %s but the URL is for %s", rt, typ)
	}
	return res, nil
}
