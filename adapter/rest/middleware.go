package rest

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/fhir"
)

// Keys of values handlers leave in the echo.Context for the middleware.
const (
	ctxRequestID = "request_id"
	ctxErrorKind = "error_kind"
)

// requestID takes the caller's X-Request-Id when it is a sane token, or makes
// one, and returns it in the response. X-Correlation-Id is echoed as NHS
// APIs expect.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get("X-Request-Id")
		if !saneToken(id) {
			id = uuid.NewString()
		}
		c.Set(ctxRequestID, id)
		h := c.Response().Header()
		h.Set("X-Request-Id", id)
		if corr := c.Request().Header.Get("X-Correlation-Id"); saneToken(corr) {
			h.Set("X-Correlation-Id", corr)
		}
		return next(c)
	}
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// saneToken accepts 1-128 characters of [A-Za-z0-9._:-].
func saneToken(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// recoverPanic turns a panic in a handler into a 500 OperationOutcome.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = panicError(r)
			}
		}()
		return next(c)
	}
}

// observe logs one line per request and records its metrics. The log line
// carries the route template, never the URL: queries hold NHS numbers.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // writes the OperationOutcome now, so the status is known
		}
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" || route == "/fhir/*" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		status := strconv.Itoa(res.Status)
		s.metrics.requests.WithLabelValues(req.Method, route, status).Inc()
		s.metrics.duration.WithLabelValues(req.Method, route).Observe(elapsed.Seconds())
		attrs := []any{
			"request_id", requestIDOf(c),
			"method", req.Method,
			"route", route,
			"status", res.Status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000,
			"bytes_out", res.Size,
		}
		// The type segment is the sender's text: only a resource type is logged.
		if t := c.Param("type"); fhir.IsResourceType(t) {
			attrs = append(attrs, "resource_type", t)
		}
		if k, ok := c.Get(ctxErrorKind).(string); ok {
			attrs = append(attrs, "error_kind", k)
		}
		s.log.InfoContext(req.Context(), "request", attrs...)
		return nil
	}
}

// securityHeaders sets headers every response carries: nothing is cached,
// sniffed, framed, referred or loaded by another origin, and a response
// over TLS tells browsers to use only HTTPS for a year.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// negotiate refuses, before any work, requests for a format other than FHIR
// JSON (406) and bodies that are not FHIR JSON (415).
func (s *Server) negotiate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if f := c.QueryParam("_format"); f != "" && !jsonFormat(f) {
			return errorf(http.StatusNotAcceptable, "_format %q is not supported; this server speaks application/fhir+json", f)
		}
		if a := req.Header.Get("Accept"); a != "" && !acceptsJSON(a) {
			return errorf(http.StatusNotAcceptable, "Accept %q is not supported; this server speaks application/fhir+json", a)
		}
		if req.Method == http.MethodPost || req.Method == http.MethodPut {
			if err := checkContentType(c); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func jsonFormat(f string) bool {
	switch strings.ToLower(strings.TrimSpace(f)) {
	case "json", "application/json", "application/fhir+json", "application/json+fhir":
		return true
	}
	mt, _, err := mime.ParseMediaType(f)
	return err == nil && (mt == "application/json" || mt == "application/fhir+json")
}

// acceptsJSON reports whether an Accept header admits FHIR JSON.
func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok && (q == "0" || q == "0.0" || q == "0.00" || q == "0.000") {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir":
			return true
		}
	}
	return false
}

// checkContentType accepts FHIR JSON bodies in UTF-8, form bodies for POST
// _search, and no body for POST _search and operations.
func checkContentType(c echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	// POST _search and operations may come without a body.
	if ct == "" && c.Request().ContentLength == 0 && (strings.HasSuffix(c.Path(), "/_search") || strings.Contains(c.Path(), "/$")) {
		return nil
	}
	if ct == "" {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type is missing; send application/fhir+json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type %q cannot be parsed", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType, "charset %q is not supported; FHIR JSON is UTF-8", cs)
	}
	switch mt {
	case "application/fhir+json", "application/json", "application/json+fhir":
		return nil
	case "application/x-www-form-urlencoded":
		if strings.HasSuffix(c.Path(), "/_search") {
			return nil
		}
	}
	return errorf(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; send application/fhir+json", mt)
}

// metrics are the HTTP metrics.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// throttled counts requests refused by the rate limit, by client.
	throttled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carebridge_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carebridge_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carebridge_http_rate_limited_total",
			Help: "Requests refused with 429 by the rate limit, by configured client id (anonymous for any other).",
		}, []string{"client"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.throttled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register HTTP metrics: %w", err)
		}
	}
	return m, nil
}
