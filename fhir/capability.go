package fhir

import "time"

// CapabilityOptions are the facts of a deployment the CapabilityStatement reports.
type CapabilityOptions struct {
	Version string    // software version
	Date    time.Time // when the statement was made (server start)
	// HealthCheck lists the annual health check operations.
	HealthCheck bool
	// TokenURL, when set, says the server requires SMART backend services
	// tokens from this token endpoint.
	TokenURL string
}

// interactions every served type supports, in the order the statement lists them.
var typeInteractions = []string{"read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"}

// CapabilityStatement returns the JSON of the server's CapabilityStatement.
// It is generated from the same registries the server runs on (the served
// types and their search parameters), so it cannot claim what is not there.
func CapabilityStatement(opt CapabilityOptions) []byte {
	resources := make([]Value, 0, len(servedTypes))
	for _, typ := range servedTypes {
		inter := make([]Value, len(typeInteractions))
		for i, code := range typeInteractions {
			inter[i] = Object(Member{Name: "code", Value: String(code)})
		}
		params := SearchParams(typ)
		sp := make([]Value, 0, len(params))
		for _, p := range params {
			m := []Member{
				{Name: "name", Value: String(p.Name)},
				{Name: "type", Value: String(p.TypeCode())},
			}
			if p.Documentation != "" {
				m = append(m, Member{Name: "documentation", Value: String(p.Documentation)})
			}
			sp = append(sp, Object(m...))
		}
		members := []Member{{Name: "type", Value: String(typ)}}
		if doc := typeDocumentation(typ); doc != "" {
			members = append(members, Member{Name: "documentation", Value: String(doc)})
		}
		members = append(members,
			Member{Name: "interaction", Value: Array(inter...)},
			Member{Name: "versioning", Value: String("versioned-update")},
			Member{Name: "readHistory", Value: Bool(true)},
			Member{Name: "updateCreate", Value: Bool(true)},
			Member{Name: "conditionalCreate", Value: Bool(true)},
			Member{Name: "conditionalRead", Value: String("not-supported")},
			Member{Name: "conditionalUpdate", Value: Bool(true)},
			Member{Name: "conditionalDelete", Value: String("single")},
			Member{Name: "referencePolicy", Value: Array(String("literal"), String("logical"), String("local"))},
			Member{Name: "searchParam", Value: Array(sp...)},
		)
		if ops := typeOperations[typ]; len(ops) > 0 {
			members = append(members, Member{Name: "operation", Value: Array(ops...)})
		}
		resources = append(resources, Object(members...))
	}
	cs := Object(
		Member{Name: "resourceType", Value: String("CapabilityStatement")},
		Member{Name: "status", Value: String("active")},
		Member{Name: "date", Value: String(opt.Date.UTC().Format(time.RFC3339))},
		Member{Name: "publisher", Value: String("CareBridge")},
		Member{Name: "kind", Value: String("instance")},
		Member{Name: "software", Value: Object(
			Member{Name: "name", Value: String("CareBridge")},
			Member{Name: "version", Value: String(opt.Version)},
		)},
		Member{Name: "implementation", Value: Object(
			Member{Name: "description", Value: String("CareBridge FHIR R4 gateway between GP practices and mental health trusts")},
		)},
		Member{Name: "fhirVersion", Value: String("4.0.1")},
		Member{Name: "format", Value: Array(String("application/fhir+json"), String("json"))},
		Member{Name: "rest", Value: Array(Object(
			Member{Name: "mode", Value: String("server")},
			Member{Name: "documentation", Value: String("Transaction and batch Bundles are posted to the base. Searches refuse unknown parameters unless the request says Prefer: handling=lenient. References search both literally (Patient/123) and by identifier (subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009), each finding resources that reference the other way.")},
			Member{Name: "resource", Value: Array(resources...)},
			Member{Name: "interaction", Value: Array(
				Object(Member{Name: "code", Value: String("transaction")}),
				Object(Member{Name: "code", Value: String("batch")}),
			)},
			Member{Name: "operation", Value: Array(operations(opt)...)},
		))},
	)
	if opt.TokenURL != "" {
		rest, _ := cs.Get("rest")
		server := rest.Items()[0]
		server.Set("security", security(opt.TokenURL))
		cs.Set("rest", Array(server))
	}
	return cs.AppendJSON(nil)
}

// security is rest.security of a server that takes SMART backend services
// tokens from tokenURL.
func security(tokenURL string) Value {
	return Object(
		Member{Name: "extension", Value: Array(Object(
			Member{Name: "url", Value: String("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")},
			Member{Name: "extension", Value: Array(Object(
				Member{Name: "url", Value: String("token")},
				Member{Name: "valueUri", Value: String(tokenURL)},
			))},
		))},
		Member{Name: "cors", Value: Bool(false)},
		Member{Name: "service", Value: Array(Object(Member{Name: "coding", Value: Array(Object(
			Member{Name: "system", Value: String("http://terminology.hl7.org/CodeSystem/restful-security-service")},
			Member{Name: "code", Value: String("SMART-on-FHIR")},
		))}))},
		Member{Name: "description", Value: String("Every request but this statement needs a bearer token from the token endpoint (SMART backend services: client_credentials with a private_key_jwt client assertion). Each client sees only what its organisation may see; see /.well-known/smart-configuration.")},
	)
}

// typeDocumentation is what the statement says of a type's interactions
// beyond the FHIR defaults; "" for nothing.
func typeDocumentation(typ string) string {
	if typ == "Task" {
		return "Creates, updates and deletes follow CareBridge's Task workflow: a status changes only along the allowed transitions (otherwise 422, naming the current and the requested status and what may follow the current one); rejected and failed need a statusReason, completed an output or a statusReason; ready is not used; a Task that is not finished cannot be deleted (cancel it instead); the owner, the requester and the gateway each make only their own changes (otherwise 403). Send If-Match with status changes."
	}
	return ""
}

// typeOperations are the operations of one resource type, by type.
var typeOperations = map[string][]Value{
	"Task": {operation("changes", "GET [base]/Task/$changes?owner=system|value or Type/id&status=codes&cursor=...&_count=N: the owner's Task versions committed after the cursor, in commit order, as a history Bundle whose next link carries the cursor to send next time (on every page, an empty one included). A poller that always follows it sees every change exactly once. Prefer: wait=N (seconds, at most 60) makes an empty page wait for a change.")},
}

// operation is a CapabilityStatement operation of CareBridge's own.
func operation(name, doc string) Value {
	return Object(
		Member{Name: "name", Value: String(name)},
		Member{Name: "definition", Value: String("https://carebridge.example/OperationDefinition/" + name)},
		Member{Name: "documentation", Value: String(doc)},
	)
}

// operations lists the server's own operations.
func operations(opt CapabilityOptions) []Value {
	out := []Value{
		operation("unmapped", "GET [base]/$unmapped: codes, units, identifiers and references that the mapping profiles could not map in current resources, counted per profile, as Parameters."),
		operation("outbox", "GET [base]/$outbox?state=pending|delivered|dead&subscription=[id]&_count=N: the Subscription notifications in the outbox, oldest first, as Parameters with one notification part per entry (id, state, subscription, focus, created, attempts, nextAttempt, delivered, lastError); next links to the following page."),
		operation("redrive", "POST [base]/$redrive with a Parameters body (or query) naming dead notifications: notification=[id] (repeated), subscription=[id], or all=true. They are delivered again from the first attempt; the answer counts and names them, as Parameters."),
	}
	if opt.HealthCheck {
		out = append(out,
			operation("health-check", "GET [base]/Patient/[id]/$health-check?date=YYYY-MM-DD&mode=rolling|qof: the person's annual SMI physical health check at the date (today by default): eligibility, each component's status, evidence and performer side, abnormal findings, the responsible organisation and the open Tasks, as Parameters."),
			operation("health-check-report", "GET [base]/$health-check-report?date=YYYY-MM-DD&mode=rolling|qof&kind=practice|pcn|trust&organization=ODS: summary MeasureReports per practice, PCN and trust, in a collection Bundle."),
			operation("reconcile", "POST [base]/$reconcile (date in the query or a Parameters body): a full health check run at the date, raising, completing and cancelling Tasks; the counts come back as Parameters."),
		)
	}
	return out
}
