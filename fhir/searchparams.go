package fhir

import (
	"slices"
	"strings"
)

// SearchParam is a search parameter CareBridge supports on a resource type,
// as the FHIR R4 specification defines it. The same registry drives index
// extraction (ExtractIndex), query parsing (ParseQuery) and the
// CapabilityStatement, so the server cannot claim a parameter it does not
// search.
type SearchParam struct {
	Name string    // the parameter's code, such as "birthdate"
	Type ParamType // how values are indexed and matched
	// Expression is the R4 FHIRPath of the parameter on this resource type,
	// for the CapabilityStatement ("Observation.subject.where(resolve() is Patient)").
	Expression string
	// Targets are the resource types a reference parameter may point at,
	// sorted; empty for any type (Task.focus, Provenance.target...).
	Targets       []string
	Documentation string // one sentence, for the CapabilityStatement

	uri   bool     // a uri parameter: matched as a token, but "|" is not a separator
	paths []ixPath // where the values are, with their FHIR data types
}

// TypeCode returns the search parameter type code the CapabilityStatement
// declares: "uri" for _profile and _source, otherwise Type.String().
func (p SearchParam) TypeCode() string {
	if p.uri {
		return "uri"
	}
	return p.Type.String()
}

// ixType is the FHIR data type of the element a path ends at; it decides
// how the element's value becomes index entries.
type ixType uint8

const (
	ixCodeableConcept ixType = iota + 1 // token: each coding's system and code
	ixCoding                            // token: system and code
	ixIdentifier                        // token: system and value (NHS numbers without separators)
	ixCode                              // token without a system: code, id, string
	ixBoolean                           // token without a system: "true" or "false"
	ixURI                               // token without a system: uri, url
	ixCanonical                         // token without a system: as written, and without "|version"
	ixContactPoint                      // token without a system: the value
	ixReference                         // reference
	ixDate                              // date interval: date, dateTime, instant
	ixPeriod                            // date interval: start to end, open ends unbounded
	ixTiming                            // date intervals: each event, and repeat.boundsPeriod
	ixString                            // string
	ixHumanName                         // strings: family, given, prefix, suffix, text
	ixAddress                           // strings: line, city, district, state, postalCode, country, text
)

// ixPath is where one search parameter finds values: a chain of element names
// from the resource root (arrays are walked through at every step) and the
// data type of the element at its end. Choice elements are listed under
// their concrete names (effectiveDateTime, effectivePeriod...).
type ixPath struct {
	elems []string
	typ   ixType
	// only, when set, keeps only references to this resource type: it turns
	// subject into patient ("subject.where(resolve() is Patient)").
	// Logical references by identifier without a type are kept too.
	only string
}

// ixAt returns the path of the dotted element chain elems, of data type typ.
func ixAt(typ ixType, elems string) ixPath {
	return ixPath{elems: strings.Split(elems, "."), typ: typ}
}

// ixRefTo returns the reference path elems restricted to targets of type typ.
func ixRefTo(typ, elems string) ixPath {
	p := ixAt(ixReference, elems)
	p.only = typ
	return p
}

// Parameter constructors, to keep the registry below one line a parameter.

func spToken(name, expr, doc string, paths ...ixPath) SearchParam {
	return SearchParam{Name: name, Type: TokenParam, Expression: expr, Documentation: doc, paths: paths}
}

func spString(name, expr, doc string, paths ...ixPath) SearchParam {
	return SearchParam{Name: name, Type: StringParam, Expression: expr, Documentation: doc, paths: paths}
}

func spDate(name, expr, doc string, paths ...ixPath) SearchParam {
	return SearchParam{Name: name, Type: DateParam, Expression: expr, Documentation: doc, paths: paths}
}

// spRef returns a reference parameter on the element chain elems; targets nil
// means any resource type.
func spRef(name, expr, doc string, targets []string, elems string) SearchParam {
	return SearchParam{Name: name, Type: ReferenceParam, Expression: expr, Documentation: doc,
		Targets: targets, paths: []ixPath{ixAt(ixReference, elems)}}
}

// spPatient returns the patient parameter: the references at elems that
// point at a Patient.
func spPatient(expr, doc, elems string) SearchParam {
	return SearchParam{Name: "patient", Type: ReferenceParam, Expression: expr, Documentation: doc,
		Targets: []string{"Patient"}, paths: []ixPath{ixRefTo("Patient", elems)}}
}

func spTypes(t ...string) []string { return t }

// commonSearchParams are the parameters every resource type has.
func commonSearchParams(typ string) []SearchParam {
	return []SearchParam{
		{Name: "_id", Type: IDParam, Expression: typ + ".id", Documentation: "Logical id of this artifact"},
		{Name: "_lastUpdated", Type: LastUpdatedParam, Expression: typ + ".meta.lastUpdated", Documentation: "When the resource version last changed"},
		{Name: "_profile", Type: TokenParam, uri: true, Expression: typ + ".meta.profile", Documentation: "Profiles this resource claims to conform to",
			paths: []ixPath{ixAt(ixCanonical, "meta.profile")}},
		{Name: "_security", Type: TokenParam, Expression: typ + ".meta.security", Documentation: "Security Labels applied to this resource",
			paths: []ixPath{ixAt(ixCoding, "meta.security")}},
		{Name: "_source", Type: TokenParam, uri: true, Expression: typ + ".meta.source", Documentation: "Identifies where the resource comes from",
			paths: []ixPath{ixAt(ixURI, "meta.source")}},
		{Name: "_tag", Type: TokenParam, Expression: typ + ".meta.tag", Documentation: "Tags applied to this resource",
			paths: []ixPath{ixAt(ixCoding, "meta.tag")}},
	}
}

// Reference target lists of the R4 definitions.
var (
	spAny          []string // any resource type
	spRequester    = spTypes("Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
	spPerformer    = spTypes("CareTeam", "Device", "HealthcareService", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
	spGroupPatient = spTypes("Group", "Patient")
	spAgent        = spTypes("Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
	spObsPerformer = spTypes("CareTeam", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
	spObsBasedOn   = spTypes("CarePlan", "DeviceRequest", "ImmunizationRecommendation", "MedicationRequest", "NutritionOrder", "ServiceRequest")
	spAsserter     = spTypes("Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
	spGP           = spTypes("Organization", "Practitioner", "PractitionerRole")
	spParticipant  = spTypes("Practitioner", "PractitionerRole", "RelatedPerson")
)

// searchRegistry holds each searchable type's own parameters (the common ones are
// added by buildSearchRegistry). It is built once and never changed.
var searchRegistry = buildSearchRegistry(map[string][]SearchParam{
	"Patient": {
		spToken("identifier", "Patient.identifier", "A patient identifier", ixAt(ixIdentifier, "identifier")),
		spString("name", "Patient.name", "A server defined search that may match any of the string fields in the HumanName, including family, given, prefix, suffix and text",
			ixAt(ixHumanName, "name")),
		spString("family", "Patient.name.family", "A portion of the family name of the patient", ixAt(ixString, "name.family")),
		spString("given", "Patient.name.given", "A portion of the given name of the patient", ixAt(ixString, "name.given")),
		spDate("birthdate", "Patient.birthDate", "The patient's date of birth", ixAt(ixDate, "birthDate")),
		spToken("gender", "Patient.gender", "Gender of the patient", ixAt(ixCode, "gender")),
		spRef("general-practitioner", "Patient.generalPractitioner", "Patient's nominated general practitioner, not the organization that manages the record",
			spGP, "generalPractitioner"),
		spRef("organization", "Patient.managingOrganization", "The organization that is the custodian of the patient record",
			spTypes("Organization"), "managingOrganization"),
		spToken("active", "Patient.active", "Whether the patient record is active", ixAt(ixBoolean, "active")),
		spString("address-postalcode", "Patient.address.postalCode", "A postalCode specified in an address", ixAt(ixString, "address.postalCode")),
		spDate("death-date", "(Patient.deceased as dateTime)", "The date of death has been provided and satisfies this search value",
			ixAt(ixDate, "deceasedDateTime")),
	},
	"Organization": {
		spToken("identifier", "Organization.identifier", "Any identifier for the organization (not the accreditation issuer's identifier)",
			ixAt(ixIdentifier, "identifier")),
		spString("name", "Organization.name | Organization.alias", "A portion of the organization's name or alias",
			ixAt(ixString, "name"), ixAt(ixString, "alias")),
		spToken("active", "Organization.active", "Is the Organization record active", ixAt(ixBoolean, "active")),
		spToken("type", "Organization.type", "A code for the type of organization", ixAt(ixCodeableConcept, "type")),
		spRef("partof", "Organization.partOf", "An organization of which this organization forms a part", spTypes("Organization"), "partOf"),
	},
	"Practitioner": {
		spToken("identifier", "Practitioner.identifier", "A practitioner's Identifier", ixAt(ixIdentifier, "identifier")),
		spString("name", "Practitioner.name", "A server defined search that may match any of the string fields in the HumanName, including family, given, prefix, suffix and text",
			ixAt(ixHumanName, "name")),
		spString("family", "Practitioner.name.family", "A portion of the family name", ixAt(ixString, "name.family")),
		spString("given", "Practitioner.name.given", "A portion of the given name", ixAt(ixString, "name.given")),
		spToken("active", "Practitioner.active", "Whether the practitioner record is active", ixAt(ixBoolean, "active")),
	},
	"PractitionerRole": {
		spToken("identifier", "PractitionerRole.identifier", "A practitioner's Identifier", ixAt(ixIdentifier, "identifier")),
		spRef("practitioner", "PractitionerRole.practitioner", "Practitioner that is able to provide the defined services for the organization",
			spTypes("Practitioner"), "practitioner"),
		spRef("organization", "PractitionerRole.organization", "The identity of the organization the practitioner represents / acts on behalf of",
			spTypes("Organization"), "organization"),
		spToken("role", "PractitionerRole.code", "The practitioner can perform this role at for the organization", ixAt(ixCodeableConcept, "code")),
		spToken("specialty", "PractitionerRole.specialty", "The practitioner has this specialty at an organization", ixAt(ixCodeableConcept, "specialty")),
		spToken("active", "PractitionerRole.active", "Whether this practitioner role record is in active use", ixAt(ixBoolean, "active")),
	},
	"ServiceRequest": {
		spToken("identifier", "ServiceRequest.identifier", "Identifiers assigned to this order", ixAt(ixIdentifier, "identifier")),
		spPatient("ServiceRequest.subject.where(resolve() is Patient)", "Search by subject - a patient", "subject"),
		spRef("subject", "ServiceRequest.subject", "Search by subject", spTypes("Device", "Group", "Location", "Patient"), "subject"),
		spToken("status", "ServiceRequest.status", "draft | active | on-hold | revoked | completed | entered-in-error | unknown", ixAt(ixCode, "status")),
		spToken("intent", "ServiceRequest.intent", "proposal | plan | directive | order | original-order | reflex-order | filler-order | instance-order | option",
			ixAt(ixCode, "intent")),
		spToken("category", "ServiceRequest.category", "Classification of service", ixAt(ixCodeableConcept, "category")),
		spToken("code", "ServiceRequest.code", "What is being requested/ordered", ixAt(ixCodeableConcept, "code")),
		spRef("requester", "ServiceRequest.requester", "Who/what is requesting service", spRequester, "requester"),
		spRef("performer", "ServiceRequest.performer", "Requested performer", spPerformer, "performer"),
		spDate("authored", "ServiceRequest.authoredOn", "Date request signed", ixAt(ixDate, "authoredOn")),
		spDate("occurrence", "ServiceRequest.occurrence", "When service should occur",
			ixAt(ixDate, "occurrenceDateTime"), ixAt(ixPeriod, "occurrencePeriod"), ixAt(ixTiming, "occurrenceTiming")),
		spRef("based-on", "ServiceRequest.basedOn", "What request fulfills", spTypes("CarePlan", "MedicationRequest", "ServiceRequest"), "basedOn"),
		spRef("encounter", "ServiceRequest.encounter", "An encounter in which this request is made", spTypes("Encounter"), "encounter"),
		spToken("priority", "ServiceRequest.priority", "routine | urgent | asap | stat", ixAt(ixCode, "priority")),
	},
	"Condition": {
		spToken("identifier", "Condition.identifier", "A unique identifier of the condition record", ixAt(ixIdentifier, "identifier")),
		spPatient("Condition.subject.where(resolve() is Patient)", "Who has the condition?", "subject"),
		spRef("subject", "Condition.subject", "Who has the condition?", spGroupPatient, "subject"),
		spToken("code", "Condition.code", "Code for the condition", ixAt(ixCodeableConcept, "code")),
		spToken("clinical-status", "Condition.clinicalStatus", "The clinical status of the condition", ixAt(ixCodeableConcept, "clinicalStatus")),
		spToken("verification-status", "Condition.verificationStatus", "unconfirmed | provisional | differential | confirmed | refuted | entered-in-error",
			ixAt(ixCodeableConcept, "verificationStatus")),
		spToken("category", "Condition.category", "The category of the condition", ixAt(ixCodeableConcept, "category")),
		spDate("onset-date", "Condition.onset.as(dateTime) | Condition.onset.as(Period)", "Date related onsets (dateTime and Period)",
			ixAt(ixDate, "onsetDateTime"), ixAt(ixPeriod, "onsetPeriod")),
		spDate("recorded-date", "Condition.recordedDate", "Date record was first recorded", ixAt(ixDate, "recordedDate")),
		spRef("encounter", "Condition.encounter", "Encounter created as part of", spTypes("Encounter"), "encounter"),
		spRef("asserter", "Condition.asserter", "Person who asserts this condition", spAsserter, "asserter"),
	},
	"CarePlan": {
		spToken("identifier", "CarePlan.identifier", "External Ids for this plan", ixAt(ixIdentifier, "identifier")),
		spPatient("CarePlan.subject.where(resolve() is Patient)", "Who the care plan is for", "subject"),
		spRef("subject", "CarePlan.subject", "Who the care plan is for", spGroupPatient, "subject"),
		spToken("status", "CarePlan.status", "draft | active | on-hold | revoked | completed | entered-in-error | unknown", ixAt(ixCode, "status")),
		spToken("intent", "CarePlan.intent", "proposal | plan | order | option", ixAt(ixCode, "intent")),
		spToken("category", "CarePlan.category", "Type of plan", ixAt(ixCodeableConcept, "category")),
		spDate("date", "CarePlan.period", "Time period plan covers", ixAt(ixPeriod, "period")),
		spRef("encounter", "CarePlan.encounter", "Encounter created as part of", spTypes("Encounter"), "encounter"),
		spRef("based-on", "CarePlan.basedOn", "Fulfills CarePlan", spTypes("CarePlan"), "basedOn"),
		spRef("care-team", "CarePlan.careTeam", "Who's involved in plan?", spTypes("CareTeam"), "careTeam"),
		spToken("activity-code", "CarePlan.activity.detail.code", "Detail type of activity", ixAt(ixCodeableConcept, "activity.detail.code")),
	},
	"Task": {
		spToken("identifier", "Task.identifier", "Search for a task instance by its business identifier", ixAt(ixIdentifier, "identifier")),
		spPatient("Task.for.where(resolve() is Patient)", "Search by patient", "for"),
		spRef("subject", "Task.for", "Search by subject", spAny, "for"),
		spRef("focus", "Task.focus", "Search by task focus", spAny, "focus"),
		spRef("owner", "Task.owner", "Search by task owner", spPerformer, "owner"),
		spRef("requester", "Task.requester", "Search by task requester", spRequester, "requester"),
		spToken("status", "Task.status", "Search by task status", ixAt(ixCode, "status")),
		spToken("business-status", "Task.businessStatus", "Search by business status", ixAt(ixCodeableConcept, "businessStatus")),
		spToken("code", "Task.code", "Search by task code", ixAt(ixCodeableConcept, "code")),
		spToken("intent", "Task.intent", "Search by task intent", ixAt(ixCode, "intent")),
		spToken("priority", "Task.priority", "Search by task priority", ixAt(ixCode, "priority")),
		spDate("authored-on", "Task.authoredOn", "Search by creation date", ixAt(ixDate, "authoredOn")),
		spDate("modified", "Task.lastModified", "Search by last modification date", ixAt(ixDate, "lastModified")),
		spDate("period", "Task.executionPeriod", "Search by period Task is/was underway", ixAt(ixPeriod, "executionPeriod")),
		spRef("based-on", "Task.basedOn", "Search by requests this task is based on", spAny, "basedOn"),
		spRef("part-of", "Task.partOf", "Search by task this task is part of", spTypes("Task"), "partOf"),
		spRef("encounter", "Task.encounter", "Search by encounter", spTypes("Encounter"), "encounter"),
		spToken("group-identifier", "Task.groupIdentifier", "Search by group identifier", ixAt(ixIdentifier, "groupIdentifier")),
	},
	"Observation": {
		spToken("identifier", "Observation.identifier", "The unique id for a particular observation", ixAt(ixIdentifier, "identifier")),
		spPatient("Observation.subject.where(resolve() is Patient)", "The subject that the observation is about (if patient)", "subject"),
		spRef("subject", "Observation.subject", "The subject that the observation is about", spTypes("Device", "Group", "Location", "Patient"), "subject"),
		spToken("code", "Observation.code", "The code of the observation type", ixAt(ixCodeableConcept, "code")),
		spToken("category", "Observation.category", "The classification of the type of observation", ixAt(ixCodeableConcept, "category")),
		spToken("status", "Observation.status", "The status of the observation", ixAt(ixCode, "status")),
		spDate("date", "Observation.effective", "Obtained date/time. If the obtained element is a period, a date that falls in the period",
			ixAt(ixDate, "effectiveDateTime"), ixAt(ixPeriod, "effectivePeriod"), ixAt(ixTiming, "effectiveTiming"), ixAt(ixDate, "effectiveInstant")),
		spRef("encounter", "Observation.encounter", "Encounter related to the observation", spTypes("Encounter"), "encounter"),
		spRef("performer", "Observation.performer", "Who performed the observation", spObsPerformer, "performer"),
		spRef("based-on", "Observation.basedOn", "Reference to the service request", spObsBasedOn, "basedOn"),
	},
	"Procedure": {
		spToken("identifier", "Procedure.identifier", "A unique identifier for a procedure", ixAt(ixIdentifier, "identifier")),
		spPatient("Procedure.subject.where(resolve() is Patient)", "Search by subject - a patient", "subject"),
		spRef("subject", "Procedure.subject", "Search by subject", spGroupPatient, "subject"),
		spToken("code", "Procedure.code", "A code to identify a procedure", ixAt(ixCodeableConcept, "code")),
		spToken("status", "Procedure.status", "preparation | in-progress | not-done | on-hold | stopped | completed | entered-in-error | unknown",
			ixAt(ixCode, "status")),
		spDate("date", "Procedure.performed", "When the procedure was performed (performedDateTime or performedPeriod)",
			ixAt(ixDate, "performedDateTime"), ixAt(ixPeriod, "performedPeriod")),
		spToken("category", "Procedure.category", "Classification of the procedure", ixAt(ixCodeableConcept, "category")),
		spRef("performer", "Procedure.performer.actor", "The reference to the practitioner", spAgent, "performer.actor"),
		spRef("encounter", "Procedure.encounter", "Encounter created as part of", spTypes("Encounter"), "encounter"),
		spRef("based-on", "Procedure.basedOn", "A request for this procedure", spTypes("CarePlan", "ServiceRequest"), "basedOn"),
	},
	"EpisodeOfCare": {
		spToken("identifier", "EpisodeOfCare.identifier", "Business Identifier(s) relevant for this EpisodeOfCare", ixAt(ixIdentifier, "identifier")),
		spPatient("EpisodeOfCare.patient", "The patient who is the focus of this episode of care", "patient"),
		spToken("status", "EpisodeOfCare.status", "The current status of the Episode of Care as provided (does not check the status history collection)",
			ixAt(ixCode, "status")),
		spToken("type", "EpisodeOfCare.type", "Type/class - e.g. specialist referral, disease management", ixAt(ixCodeableConcept, "type")),
		spDate("date", "EpisodeOfCare.period", "The provided date search value falls within the episode of care's period", ixAt(ixPeriod, "period")),
		spRef("organization", "EpisodeOfCare.managingOrganization", "The organization that has assumed the specific responsibilities of this EpisodeOfCare",
			spTypes("Organization"), "managingOrganization"),
		{Name: "care-manager", Type: ReferenceParam, Expression: "EpisodeOfCare.careManager.where(resolve() is Practitioner)",
			Documentation: "Care manager/care coordinator for the patient", Targets: spTypes("Practitioner"),
			paths: []ixPath{ixRefTo("Practitioner", "careManager")}},
		spRef("condition", "EpisodeOfCare.diagnosis.condition", "Conditions/problems/diagnoses this episode of care is for", spTypes("Condition"), "diagnosis.condition"),
		spRef("incoming-referral", "EpisodeOfCare.referralRequest", "Incoming Referral Request", spTypes("ServiceRequest"), "referralRequest"),
	},
	"Encounter": {
		spToken("identifier", "Encounter.identifier", "Identifier(s) by which this encounter is known", ixAt(ixIdentifier, "identifier")),
		spPatient("Encounter.subject.where(resolve() is Patient)", "The patient or group present at the encounter (if patient)", "subject"),
		spRef("subject", "Encounter.subject", "The patient or group present at the encounter", spGroupPatient, "subject"),
		spToken("status", "Encounter.status", "planned | arrived | triaged | in-progress | onleave | finished | cancelled +", ixAt(ixCode, "status")),
		spToken("class", "Encounter.class", "Classification of patient encounter", ixAt(ixCoding, "class")),
		spToken("type", "Encounter.type", "Specific type of encounter", ixAt(ixCodeableConcept, "type")),
		spDate("date", "Encounter.period", "A date within the period the Encounter lasted", ixAt(ixPeriod, "period")),
		spRef("service-provider", "Encounter.serviceProvider", "The organization (facility) responsible for this encounter", spTypes("Organization"), "serviceProvider"),
		spRef("participant", "Encounter.participant.individual", "Persons involved in the encounter other than the patient", spParticipant, "participant.individual"),
		spRef("episode-of-care", "Encounter.episodeOfCare", "Episode(s) of care that this encounter should be recorded against", spTypes("EpisodeOfCare"), "episodeOfCare"),
		spRef("based-on", "Encounter.basedOn", "The ServiceRequest that initiated this encounter", spTypes("ServiceRequest"), "basedOn"),
		spToken("reason-code", "Encounter.reasonCode", "Coded reason the encounter takes place", ixAt(ixCodeableConcept, "reasonCode")),
	},
	"Subscription": {
		spToken("status", "Subscription.status", "The current state of the subscription", ixAt(ixCode, "status")),
		spToken("type", "Subscription.channel.type", "The type of channel for the sent notifications", ixAt(ixCode, "channel.type")),
		{Name: "url", Type: TokenParam, uri: true, Expression: "Subscription.channel.endpoint", Documentation: "The uri that will receive the notifications",
			paths: []ixPath{ixAt(ixURI, "channel.endpoint")}},
		spString("criteria", "Subscription.criteria", "The search rules used to determine when to send a notification", ixAt(ixString, "criteria")),
		spToken("payload", "Subscription.channel.payload", "The mime-type of the notification payload", ixAt(ixCode, "channel.payload")),
	},
	"Provenance": {
		spRef("target", "Provenance.target", "Target Reference(s) (usually version specific)", spAny, "target"),
		spPatient("Provenance.target.where(resolve() is Patient)", "Target Reference(s) (usually version specific)", "target"),
		spRef("agent", "Provenance.agent.who", "Who participated", spAgent, "agent.who"),
		spDate("recorded", "Provenance.recorded", "When the activity was recorded / updated", ixAt(ixDate, "recorded")),
		spRef("entity", "Provenance.entity.what", "Identity of entity", spAny, "entity.what"),
	},
})

// buildSearchRegistry adds the common parameters to each type's own and sorts each
// list by name.
func buildSearchRegistry(own map[string][]SearchParam) map[string][]SearchParam {
	out := make(map[string][]SearchParam, len(own))
	for typ, ps := range own {
		all := append(commonSearchParams(typ), ps...)
		slices.SortFunc(all, func(a, b SearchParam) int { return strings.Compare(a.Name, b.Name) })
		out[typ] = all
	}
	return out
}

// lookupParam returns the registry entry of a parameter, without copying.
func lookupParam(resourceType, name string) *SearchParam {
	ps := searchRegistry[resourceType]
	i, ok := slices.BinarySearchFunc(ps, name, func(p SearchParam, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return nil
	}
	return &ps[i]
}

// SearchParams returns the search parameters of a resource type, sorted by
// name, including those every type has (_id, _lastUpdated, _profile,
// _security, _source, _tag); nil for a type that is not searchable.
func SearchParams(resourceType string) []SearchParam {
	ps := searchRegistry[resourceType]
	if ps == nil {
		return nil
	}
	out := make([]SearchParam, len(ps))
	for i, p := range ps {
		p.Targets = slices.Clone(p.Targets)
		out[i] = p
	}
	return out
}

// LookupSearchParam returns the search parameter called name of a resource
// type, and whether there is one.
func LookupSearchParam(resourceType, name string) (SearchParam, bool) {
	p := lookupParam(resourceType, name)
	if p == nil {
		return SearchParam{}, false
	}
	out := *p
	out.Targets = slices.Clone(p.Targets)
	return out, true
}

// SearchableTypes returns the resource types that have search parameters,
// sorted. They are the types the REST API serves (ServedTypes).
func SearchableTypes() []string {
	out := make([]string, 0, len(searchRegistry))
	for typ := range searchRegistry {
		out = append(out, typ)
	}
	slices.Sort(out)
	return out
}
