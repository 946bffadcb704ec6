package fhir

import "slices"

// servedTypes are the resource types CareBridge's REST API serves, sorted.
var servedTypes = []string{
	"CarePlan",
	"Condition",
	"Encounter",
	"EpisodeOfCare",
	"Observation",
	"Organization",
	"Patient",
	"Practitioner",
	"PractitionerRole",
	"Procedure",
	"Provenance",
	"ServiceRequest",
	"Subscription",
	"Task",
}

// ServedTypes returns the resource types the REST API serves, sorted.
func ServedTypes() []string { return slices.Clone(servedTypes) }

// Served reports whether the REST API serves resource type typ.
func Served(typ string) bool {
	_, ok := slices.BinarySearch(servedTypes, typ)
	return ok
}
