// Package fhir is CareBridge's FHIR R4 toolkit: strict decoding and validation of
// resources as senders wrote them, the error vocabulary every layer uses
// (Error, Kind and OperationOutcome), search parameters and the search index,
// references, Bundle transaction planning, the CapabilityStatement, and NHS
// number and ODS code identifiers.
//
// Resources travel as a Value: an order-preserving JSON tree that keeps the
// sender's member order and number text, so that what is stored is what was
// sent, plus id and meta. The samply FHIR R4 models are used where Go types
// help (building OperationOutcome and CapabilityStatement, and in the mapping
// layer); they are never used to re-encode a sender's resource.
//
// The package does no I/O: it imports no HTTP framework and no database driver.
package fhir
