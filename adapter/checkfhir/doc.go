// Package checkfhir renders the annual SMI physical health check for the
// outside world: a per-organisation Summary as a FHIR R4 summary
// MeasureReport and as CSV, and one person's Verdict as the Parameters
// result of the $health-check operation.
//
// It writes its JSON with its own small structs, in FHIR's element order,
// so that every value[x] holds exactly one type and every byte is pinned by
// a golden file; the tests check that each output passes the fhir package's
// strict decoder. It is pure: no HTTP, no database, no clock (the instant a
// report was made is an option).
//
// CareBridge's own terms have canonical URLs under https://carebridge.example
// (the constants below). No UK Core profile exists for MeasureReport, so the
// report is base R4.
package checkfhir
