package checkfhir_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter/checkfhir"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

func TestWriteCSV(t *testing.T) {
	// Summaries straight from the Summariser, then a hand-built one whose
	// every count differs.
	s := healthcheck.NewSummariser(d(2025, 6, 30), healthcheck.Rolling, map[string][]string{"U12345": {"A81001"}})
	v := doneByTrust()
	if err := s.Add(v); err != nil {
		t.Fatal(err)
	}
	v.Practice, v.Trusts = "", nil
	if err := s.Add(v); err != nil {
		t.Fatal(err)
	}
	summaries := append(s.Summaries(), practiceSummary())

	var buf bytes.Buffer
	if err := checkfhir.WriteCSV(&buf, summaries); err != nil {
		t.Fatal(err)
	}
	golden(t, "summaries.csv", buf.Bytes())
}

func TestCSVHeader(t *testing.T) {
	h := checkfhir.CSVHeader()
	if want := 7 + 5*len(sharedcare.Components) + len(healthcheck.Measures) + 3; len(h) != want {
		t.Errorf("%d columns, want %d", len(h), want)
	}
	sorted := slices.Clone(h)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(h) {
		t.Errorf("a column name repeats: %v", h)
	}
	for _, col := range []string{"blood_pressure_by_trust_only", "abnormal_non_diabetic_hyperglycaemia", "smoking_due_soon"} {
		if !slices.Contains(h, col) {
			t.Errorf("no column %s in %v", col, h)
		}
	}
}

func TestWriteCSVRefusesAMeasureWithoutAColumnAndWritesNothing(t *testing.T) {
	bad := practiceSummary()
	bad.Abnormal = append(bad.Abnormal, healthcheck.MeasureCount{Measure: "qrisk-high", People: 1})
	var buf bytes.Buffer
	err := checkfhir.WriteCSV(&buf, []healthcheck.Summary{practiceSummary(), bad})
	if err == nil || !strings.Contains(err.Error(), `"qrisk-high"`) {
		t.Fatalf("WriteCSV = %v, want an error naming the measure", err)
	}
	if buf.Len() != 0 {
		t.Errorf("WriteCSV wrote %q before refusing", buf.String())
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteCSVReportsWriteErrors(t *testing.T) {
	err := checkfhir.WriteCSV(failingWriter{}, []healthcheck.Summary{practiceSummary()})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("WriteCSV = %v, want it to wrap %v", err, errDiskFull)
	}
}
