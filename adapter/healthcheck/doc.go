// Package healthcheck owns the annual SMI physical health check: from one
// person's shared-care record, a reference date and configuration, it
// decides eligibility, the status of each of the six components, who did
// them, abnormal findings, who is responsible, and which Tasks should be
// open. It is a pure function of its inputs (domain reference section 10):
// no FHIR, no database, no clock.
package healthcheck
