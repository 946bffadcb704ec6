package checkfhir

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

// CSVHeader returns the columns WriteCSV writes, in order: mode, as_of,
// scope_kind, scope_code, on_register, eligible, all_six_done; for each
// component in sharedcare.Components order <c>_done, <c>_due_soon,
// <c>_declined, <c>_outstanding, <c>_by_trust_only; abnormal_<measure> for
// each of healthcheck.Measures; then responsible_primary,
// responsible_secondary, responsible_uncertain. Hyphens in component and
// measure names become underscores (blood_pressure_done).
func CSVHeader() []string {
	h := []string{"mode", "as_of", "scope_kind", "scope_code", "on_register", "eligible", "all_six_done"}
	for _, c := range sharedcare.Components {
		n := column(string(c))
		h = append(h, n+"_done", n+"_due_soon", n+"_declined", n+"_outstanding", n+"_by_trust_only")
	}
	for _, m := range healthcheck.Measures {
		h = append(h, "abnormal_"+column(m))
	}
	return append(h, "responsible_primary", "responsible_secondary", "responsible_uncertain")
}

func column(name string) string { return strings.ReplaceAll(name, "-", "_") }

// WriteCSV writes the header (CSVHeader) and one row per summary, in the
// order given. Counts are whole numbers; a measure with no people is 0. If
// a summary's tallies are out of place, or it counts a measure
// healthcheck.Measures does not list, WriteCSV writes nothing and says so.
func WriteCSV(w io.Writer, summaries []healthcheck.Summary) error {
	abnormal := make([][len(healthcheck.Measures)]int, len(summaries))
	for i, s := range summaries {
		var err error
		if abnormal[i], err = tallies(s); err != nil {
			return fmt.Errorf("health check csv, %s %q: %w", s.Scope.Kind, s.Scope.Code, err)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return fmt.Errorf("health check csv: %w", err)
	}
	for i, s := range summaries {
		row := []string{string(s.Mode), s.AsOf.String(), string(s.Scope.Kind), s.Scope.Code}
		row = appendInts(row, s.OnRegister, s.Eligible, s.AllSixDone)
		for _, ct := range s.Components {
			row = appendInts(row, ct.Done, ct.DueSoon, ct.Declined, ct.Outstanding, ct.ByTrustOnly)
		}
		row = appendInts(row, abnormal[i][:]...)
		row = appendInts(row, s.Responsible.Primary, s.Responsible.Secondary, s.Responsible.Uncertain)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("health check csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("health check csv: %w", err)
	}
	return nil
}

func appendInts(row []string, ns ...int) []string {
	for _, n := range ns {
		row = append(row, strconv.Itoa(n))
	}
	return row
}
