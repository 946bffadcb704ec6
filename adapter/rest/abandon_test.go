package rest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/rest"
)

// TestAbandonedRequestIsNotAServerFault checks that a request whose client
// has gone (its context ended) is answered 503 and logged as abandoned, not
// logged as a server error.
func TestAbandonedRequestIsNotAServerFault(t *testing.T) {
	gw := adapter.New(openSQLite(t), adapter.Config{Location: time.UTC})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := prometheus.NewRegistry()
	srv, err := rest.NewServer(rest.Config{MaxBodyBytes: 1 << 20}, gw, log, reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/fhir/Patient?name=x", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503; body %s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), `"code":"transient"`) {
		t.Errorf("body = %s, want a transient OperationOutcome", rec.Body)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "request abandoned") {
		t.Errorf("logs = %s, want an abandoned line and no error", logs.String())
	}
}
