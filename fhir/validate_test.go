package fhir

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// issue is an error-severity Issue, as a validator reports them.
func issue(code IssueType, expression, diagnostics string) Issue {
	return Issue{Severity: SeverityError, Code: code, Expression: expression, Diagnostics: diagnostics}
}

// validateCase is one resource and what ValidateResource must say of it:
// nothing (want nil), or exactly the issues want with the error's Kind.
type validateCase struct {
	name string
	res  string
	kind Kind
	want []Issue
}

func runValidateCases(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseJSON([]byte(tc.res))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			err = ValidateResource(v)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateResource = %v, want nil", err)
				}
				return
			}
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("ValidateResource = %v, want an *Error", err)
			}
			if e.Kind != tc.kind {
				t.Errorf("Kind = %v, want %v", e.Kind, tc.kind)
			}
			if diff := cmp.Diff(tc.want, e.Issues); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateResourceTopLevel(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "a minimal Observation is valid",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"}}`},
		{name: "resourceType may come after other members",
			res: `{"status":"final","code":{"text":"BP"},"resourceType":"Observation"}`},
		{name: "a resource with only resourceType is valid: ele-1 applies to elements, not resources",
			res: `{"resourceType":"Patient"}`},
		{name: "the top level must be an object", res: `[{"resourceType":"Patient"}]`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "", "expected a resource (a JSON object), found an array")}},
		{name: "resourceType is required", res: `{"id":"p1","active":true}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "", "missing required element 'resourceType'")}},
		{name: "resourceType must be a string", res: `{"resourceType":7}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "resourceType", "expected a string, found a number")}},
		{name: "resourceType must name an R4 resource type", res: `{"resourceType":"Patients"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "resourceType", "'Patients' is not a FHIR R4 resource type")}},
		{name: "abstract types are not resource types", res: `{"resourceType":"DomainResource"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "resourceType", "'DomainResource' is not a FHIR R4 resource type")}},
		{name: "data types are not resource types", res: `{"resourceType":"HumanName","family":"Jones"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "resourceType", "'HumanName' is not a FHIR R4 resource type")}},
	})
}

func TestValidateResourceUnknownElements(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "an unknown element of a resource", res: `{"resourceType":"Patient","colour":"blue"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.colour", "unknown element 'colour'")}},
		{name: "element names are case-sensitive", res: `{"resourceType":"Patient","BirthDate":"1970-01-01"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.BirthDate", "unknown element 'BirthDate'")}},
		{name: "an unknown element of a data type",
			res: `{"resourceType":"Patient","identifier":[{"system":"urn:x","value":"1"},{"value":"2","display":"two"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.identifier[1].display", "unknown element 'display'")}},
		{name: "an unknown element of a backbone element",
			res: `{"resourceType":"Patient","contact":[{"name":{"family":"Jones"},"mood":"calm"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.contact[0].mood", "unknown element 'mood'")}},
		{name: "a choice element needs its type suffix", res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"effective":"2024-01-01"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.effective", "unknown element 'effective'")}},
		{name: "a choice element with a type it does not allow", res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"effectiveDate":"2024-01-01"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.effectiveDate", "unknown element 'effectiveDate'")}},
		{name: "resourceType inside an element", res: `{"resourceType":"Patient","name":[{"resourceType":"HumanName","family":"Jones"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].resourceType", "'resourceType' is allowed only at the top of a resource")}},
		{name: "a _name sibling of a complex element", res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"_code":{"id":"x"}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation._code", "unknown element '_code': only primitive elements other than id have a '_' sibling")}},
		{name: "a _name sibling of the resource id", res: `{"resourceType":"Patient","id":"p1","_id":{"extension":[{"url":"http://x","valueString":"y"}]}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient._id", "unknown element '_id': only primitive elements other than id have a '_' sibling")}},
		{name: "a _name sibling of nothing", res: `{"resourceType":"Patient","_colour":{"id":"x"}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient._colour", "unknown element '_colour'")}},
		{name: "Observation.contained, which the samply models lack, is known", res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"}}`},
	})
}

func TestValidateResourceJSONKinds(t *testing.T) {
	obs := func(member string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"BP"},` + member + `}`
	}
	runValidateCases(t, []validateCase{
		{name: "a boolean written as a string", res: `{"resourceType":"Patient","active":"true"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.active", "expected a boolean (true or false), found a string")}},
		{name: "an integer written as a string", res: `{"resourceType":"Patient","multipleBirthInteger":"2"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.multipleBirth.ofType(integer)", "expected a number, found a string")}},
		{name: "a decimal written as a string", res: obs(`"valueQuantity":{"value":"5.4","unit":"mmol/L"}`), kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.value.ofType(Quantity).value", "expected a number, found a string")}},
		{name: "a decimal keeps its exponent and precision", res: obs(`"valueQuantity":{"value":1.50e2,"unit":"mmol/L"}`)},
		{name: "a code written as a number", res: `{"resourceType":"Patient","gender":1}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.gender", "expected a string, found a number")}},
		{name: "a data type written as a string", res: `{"resourceType":"Observation","status":"final","code":"BP"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.code", "expected an object, found a string")}},
		{name: "an integer with a fraction", res: `{"resourceType":"Patient","multipleBirthInteger":2.5}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.multipleBirth.ofType(integer)", "'2.5' is not a valid integer: it must be a whole number, without fraction or exponent")}},
		{name: "an integer with an exponent", res: `{"resourceType":"Patient","multipleBirthInteger":2e0}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.multipleBirth.ofType(integer)", "'2e0' is not a valid integer: it must be a whole number, without fraction or exponent")}},
		{name: "an integer beyond 32 bits", res: `{"resourceType":"Patient","multipleBirthInteger":2147483648}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.multipleBirth.ofType(integer)", "'2147483648' is not a valid integer: it must be between -2147483648 and 2147483647")}},
		{name: "the smallest integer", res: `{"resourceType":"Patient","multipleBirthInteger":-2147483648}`},
		{name: "a positiveInt of 0", res: `{"resourceType":"Patient","extension":[{"url":"http://example.org/count","valuePositiveInt":0}]}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.extension[0].value.ofType(positiveInt)", "'0' is not a valid positiveInt: it must be at least 1")}},
		{name: "a negative unsignedInt", res: `{"resourceType":"Patient","extension":[{"url":"http://example.org/count","valueUnsignedInt":-1}]}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.extension[0].value.ofType(unsignedInt)", "'-1' is not a valid unsignedInt: it must not be negative")}},
		{name: "an unsignedInt of 0", res: `{"resourceType":"Patient","extension":[{"url":"http://example.org/count","valueUnsignedInt":0}]}`},
		{name: "a repeating element written as one value", res: `{"resourceType":"Patient","name":{"family":"Jones"}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name", "expected an array, found an object")}},
		{name: "a repeating primitive written as one value", res: `{"resourceType":"Patient","name":[{"given":"Ann"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given", "expected an array, found a string")}},
		{name: "a single primitive written as an array", res: `{"resourceType":"Patient","gender":["female"]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.gender", "expected a string, found an array")}},
		{name: "a single data type written as an array", res: `{"resourceType":"Observation","status":"final","code":[{"text":"BP"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.code", "expected an object, found an array")}},
		{name: "a single boolean written as an array", res: `{"resourceType":"Patient","active":[true]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.active", "expected a boolean (true or false), found an array")}},
	})
}

func TestValidateResourceCardinality(t *testing.T) {
	dar := `{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`
	runValidateCases(t, []validateCase{
		{name: "required elements of a resource", res: `{"resourceType":"Observation"}`, kind: Invalid,
			want: []Issue{
				issue(IssueRequired, "Observation.code", "missing required element 'code'"),
				issue(IssueRequired, "Observation.status", "missing required element 'status'"),
			}},
		{name: "a required primitive present only by its extension", res: `{"resourceType":"Observation","_status":` + dar + `,"code":{"text":"BP"}}`},
		{name: "a required element of a backbone element",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"component":[{"code":{"text":"systolic"}},{"valueString":"high"}]}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "Observation.component[1].code", "missing required element 'code'")}},
		{name: "required elements of a backbone element inside a data type",
			res: `{"resourceType":"Patient","link":[{"type":"seealso"}]}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "Patient.link[0].other", "missing required element 'other'")}},
		{name: "required elements of a data type", res: `{"resourceType":"Patient","text":{"status":"generated"}}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "Patient.text.div", "missing required element 'div'")}},
		{name: "at most one member of a choice group",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"effectiveDateTime":"2024-01-01","effectivePeriod":{"start":"2024-01-01"}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.effective", "at most one of effectiveDateTime, effectivePeriod may be present")}},
		{name: "at most one member of a choice group, counting extension-only members",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"valueString":"x","_valueBoolean":` + dar + `}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Observation.value", "at most one of valueString, valueBoolean may be present")}},
		{name: "a choice member with its own extension is one member",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"effectiveDateTime":"2024-01-01","_effectiveDateTime":{"id":"e1","extension":[{"url":"http://x","valueString":"y"}]}}`},
		{name: "a required choice group: Task.input.value[x]",
			res: `{"resourceType":"Task","status":"requested","intent":"order","input":[{"type":{"text":"reason"}}]}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "Task.input[0].value", "missing required element 'value[x]'")}},
		{name: "a required choice group present only by its extension",
			res: `{"resourceType":"Task","status":"requested","intent":"order","output":[{"type":{"text":"result"},"_valueString":` + dar + `}]}`},
		{name: "a required choice group in a data type: UsageContext.value[x]",
			res: `{"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},"extension":[{"url":"http://example.org/ctx","valueUsageContext":{"code":{"code":"focus"}}}]}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "CarePlan.extension[0].value.ofType(UsageContext).value", "missing required element 'value[x]'")}},
	})
}

func TestValidateResourceRequiredBindings(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "a code outside a resource's required binding",
			res: `{"resourceType":"Observation","status":"finalised","code":{"text":"BP"}}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.status", "'finalised' is not one of the codes allowed for Observation.status: registered | preliminary | final | amended | corrected | cancelled | entered-in-error | unknown")}},
		{name: "codes are case-sensitive", res: `{"resourceType":"Patient","gender":"Female"}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.gender", "'Female' is not one of the codes allowed for Patient.gender: male | female | other | unknown")}},
		{name: "a code outside a backbone element's binding", res: `{"resourceType":"Patient","contact":[{"gender":"f"}]}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.contact[0].gender", "'f' is not one of the codes allowed for Patient.contact.gender: male | female | other | unknown")}},
		{name: "a code outside a data type's binding", res: `{"resourceType":"Patient","identifier":[{"use":"primary","value":"1"}]}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.identifier[0].use", "'primary' is not one of the codes allowed for Identifier.use: usual | official | temp | secondary | old")}},
		{name: "a binding the schema leaves out, from the R4 definitions: CarePlan.status",
			res: `{"resourceType":"CarePlan","status":"done","intent":"plan","subject":{"reference":"Patient/p1"}}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "CarePlan.status", "'done' is not one of the codes allowed for CarePlan.status: draft | active | on-hold | revoked | completed | entered-in-error | unknown")}},
		{name: "a repeating code", res: `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"occurrenceTiming":{"repeat":{"dayOfWeek":["mon","monday"]}}}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "ServiceRequest.occurrence.ofType(Timing).repeat.dayOfWeek[1]", "'monday' is not one of the codes allowed for Timing.repeat.dayOfWeek: mon | tue | wed | thu | fri | sat | sun")}},
		{name: "codes of an extensible binding are not checked", res: `{"resourceType":"Patient","maritalStatus":{"coding":[{"code":"ZZ"}]},"communication":[{"language":{"text":"Klingon"}}]}`},
	})
}

func TestValidateResourcePrimitiveFormats(t *testing.T) {
	pat := func(member string) string { return `{"resourceType":"Patient",` + member + `}` }
	ext := func(value string) string {
		return `{"resourceType":"Patient","extension":[{"url":"http://example.org/x",` + value + `}]}`
	}
	obs := func(member string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"BP"},` + member + `}`
	}
	runValidateCases(t, []validateCase{
		{name: "a date with month 13", res: pat(`"birthDate":"2025-13-01"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'2025-13-01' is not a valid date")}},
		{name: "a date that does not exist", res: pat(`"birthDate":"2025-02-30"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'2025-02-30' is not a valid date: 2025-02 has no day 30")}},
		{name: "29 February of a year that is not leap", res: pat(`"birthDate":"1900-02-29"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'1900-02-29' is not a valid date: 1900-02 has no day 29")}},
		{name: "29 February of a leap year", res: pat(`"birthDate":"2000-02-29"`)},
		{name: "a year alone and a year and month are dates", res: pat(`"birthDate":"1974","deceasedDateTime":"2020-03"`)},
		{name: "the year 0000", res: pat(`"birthDate":"0000"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'0000' is not a valid date")}},
		{name: "a date with a time", res: pat(`"birthDate":"1974-12-25T10:00:00Z"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'1974-12-25T10:00:00Z' is not a valid date")}},
		{name: "a date in another format", res: pat(`"birthDate":"25/12/1974"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'25/12/1974' is not a valid date")}},
		{name: "a dateTime with fraction and offset", res: obs(`"effectiveDateTime":"2021-11-26T15:00:00.123+01:00"`)},
		{name: "a dateTime with a leap second and the largest offset", res: obs(`"effectiveDateTime":"2016-12-31T23:59:60+14:00"`)},
		{name: "a dateTime with a time but no time zone", res: obs(`"effectiveDateTime":"2021-11-26T15:00:00"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.effective.ofType(dateTime)", "'2021-11-26T15:00:00' is not a valid dateTime: a time must have a time zone (Z or +hh:mm)")}},
		{name: "a dateTime at hour 24", res: obs(`"effectiveDateTime":"2021-11-26T24:00:00Z"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.effective.ofType(dateTime)", "'2021-11-26T24:00:00Z' is not a valid dateTime")}},
		{name: "a dateTime with minutes but no seconds", res: obs(`"effectiveDateTime":"2021-11-26T15:00Z"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.effective.ofType(dateTime)", "'2021-11-26T15:00Z' is not a valid dateTime")}},
		{name: "a dateTime offset beyond 14:00", res: obs(`"effectiveDateTime":"2021-11-26T15:00:00+14:30"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.effective.ofType(dateTime)", "'2021-11-26T15:00:00+14:30' is not a valid dateTime")}},
		{name: "a dateTime on a day that does not exist", res: obs(`"effectiveDateTime":"2021-04-31T15:00:00Z"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.effective.ofType(dateTime)", "'2021-04-31T15:00:00Z' is not a valid dateTime: 2021-04 has no day 31")}},
		{name: "an instant without a time", res: obs(`"issued":"2021-11-26"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.issued", "'2021-11-26' is not a valid instant")}},
		{name: "an instant", res: obs(`"issued":"2021-11-26T15:00:00Z","meta":{"lastUpdated":"2021-11-26T15:00:00.5-05:00"}`)},
		{name: "a time", res: ext(`"valueTime":"23:59:59.999"`)},
		{name: "a time of hours and minutes only", res: ext(`"valueTime":"10:30"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.extension[0].value.ofType(time)", "'10:30' is not a valid time")}},
		{name: "an id with an underscore", res: pat(`"id":"p_1"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.id", "'p_1' is not a valid id: an id is 1 to 64 letters, digits, '-' and '.'")}},
		{name: "an id of 65 characters", res: pat(`"id":"` + strings.Repeat("a", 65) + `"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.id", "'"+strings.Repeat("a", 64)+"…' is not a valid id: an id is 1 to 64 letters, digits, '-' and '.'")}},
		{name: "an id of 64 characters", res: pat(`"id":"` + strings.Repeat("A.-9", 16) + `"`)},
		{name: "a code with repeated whitespace", res: obs(`"category":[{"coding":[{"code":"vital  signs"}]}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.category[0].coding[0].code", "'vital  signs' is not a valid code: a code must not have leading, trailing or repeated whitespace")}},
		{name: "a code with a trailing space", res: obs(`"category":[{"coding":[{"code":"vital "}]}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.category[0].coding[0].code", "'vital ' is not a valid code: a code must not have leading, trailing or repeated whitespace")}},
		{name: "a code with single inner spaces", res: obs(`"category":[{"coding":[{"code":"vital signs"}]}]`)},
		{name: "a uri with a space", res: obs(`"category":[{"coding":[{"system":"http://snomed info","code":"1"}]}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Observation.category[0].coding[0].system", "'http://snomed info' is not a valid uri: it must not contain whitespace")}},
		{name: "a url with a non-breaking space", res: pat("\"photo\":[{\"url\":\"http://x/a\u00a0b\"}]"), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.photo[0].url", "'http://x/a\u00a0b' is not a valid url: it must not contain whitespace")}},
		{name: "a canonical with a tab", res: pat(`"meta":{"profile":["https://example.org/a\tb"]}`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.meta.profile[0]", "'https://example.org/a\tb' is not a valid canonical: it must not contain whitespace")}},
		{name: "an oid with a leading zero", res: ext(`"valueOid":"urn:oid:1.02.3"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.extension[0].value.ofType(oid)", "'urn:oid:1.02.3' is not a valid oid")}},
		{name: "an oid", res: ext(`"valueOid":"urn:oid:2.16.840.1.113883"`)},
		{name: "a uuid in capitals", res: ext(`"valueUuid":"urn:uuid:9589FB37-87A2-48D8-968F-B371429208A8"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.extension[0].value.ofType(uuid)", "'urn:uuid:9589FB37-87A2-48D8-968F-B371429208A8' is not a valid uuid")}},
		{name: "a uuid", res: ext(`"valueUuid":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"`)},
		{name: "base64 of a wrong length", res: pat(`"photo":[{"data":"aGVsbG8"}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.photo[0].data", "'aGVsbG8' is not a valid base64Binary")}},
		{name: "base64 with data after the padding", res: pat(`"photo":[{"data":"aG==bG8="}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.photo[0].data", "'aG==bG8=' is not a valid base64Binary")}},
		{name: "base64 with line breaks", res: pat(`"photo":[{"data":"aGVs\nbG8="}]`)},
		{name: "an empty string", res: pat(`"name":[{"family":""}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.name[0].family", "empty strings are not allowed: leave the element out")}},
		{name: "an empty code", res: pat(`"gender":""`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.gender", "empty strings are not allowed: leave the element out")}},
		{name: "a string with a control character", res: pat(`"name":[{"family":"Jo\u0001nes"}]`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.name[0].family", "'Jo\x01nes' is not a valid string: it contains the control character U+0001")}},
		{name: "a string and a markdown with line breaks, tabs and non-ASCII text", res: obs(`"note":[{"text":"Line one\r\n\tZoë: *ok*"}],"valueString":"Ó Súilleabháin\u00a0Jr"`)},
		{name: "a long value is shortened in the diagnostics", res: pat(`"birthDate":"` + strings.Repeat("9", 70) + `"`), kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.birthDate", "'"+strings.Repeat("9", 64)+"…' is not a valid date")}},
	})
}

func TestValidateResourceEmptyValuesAndNulls(t *testing.T) {
	dar := `{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`
	runValidateCases(t, []validateCase{
		{name: "an empty object", res: `{"resourceType":"Observation","status":"final","code":{}}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Observation.code", "empty objects are not allowed: an element must have a value or children (ele-1)")}},
		{name: "an object with only an id", res: `{"resourceType":"Observation","status":"final","code":{"id":"c1"}}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Observation.code", "an element must have a value or children other than its id (ele-1)")}},
		{name: "an empty array", res: `{"resourceType":"Patient","name":[]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name", "empty arrays are not allowed: leave the element out")}},
		{name: "null for a single value", res: `{"resourceType":"Patient","gender":null}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.gender", "expected a string, found null")}},
		{name: "null for a data type", res: `{"resourceType":"Patient","maritalStatus":null}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.maritalStatus", "expected an object, found null")}},
		{name: "null in an array of data types", res: `{"resourceType":"Patient","name":[null,{"family":"Jones"}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0]", "null is not allowed: leave the item out")}},
		{name: "null in a primitive array without a _name array", res: `{"resourceType":"Patient","name":[{"given":["Ann",null]}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given[1]", "null is allowed here only where '_given', an array of the same length, has an object in its place")}},
		{name: "null in a primitive array paired with its _name array", res: `{"resourceType":"Patient","name":[{"given":[null,"Ann"],"_given":[` + dar + `,null]}]}`},
		{name: "null in both arrays at one place", res: `{"resourceType":"Patient","name":[{"given":["Ann",null],"_given":[` + dar + `,null]}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given[1]", "null is allowed here only where '_given', an array of the same length, has an object in its place")}},
		{name: "a _name array of another length", res: `{"resourceType":"Patient","name":[{"given":["Ann","Bea"],"_given":[` + dar + `]}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given", "'given' and '_given' must have the same number of items, found 2 and 1")}},
		{name: "a _name array without values", res: `{"resourceType":"Patient","name":[{"_given":[` + dar + `,null]}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given[1]", "null is allowed in '_given' only where 'given' has a value in its place")}},
		{name: "a _name sibling that is not an object", res: `{"resourceType":"Patient","birthDate":"1970","_birthDate":"x"}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.birthDate", "expected '_birthDate' to be an object, found a string")}},
		{name: "a _name sibling of a repeating element that is not an array", res: `{"resourceType":"Patient","name":[{"given":["Ann"],"_given":` + dar + `}]}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.name[0].given", "expected '_given' to be an array, found an object")}},
		{name: "a _name sibling holds only id and extension", res: `{"resourceType":"Patient","birthDate":"1970","_birthDate":{"value":"1970"}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.birthDate.value", "unknown element 'value'")}},
		{name: "an empty _name sibling", res: `{"resourceType":"Patient","birthDate":"1970","_birthDate":{}}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.birthDate", "empty objects are not allowed: an element must have a value or children (ele-1)")}},
		{name: "a _name sibling with only an id beside a value", res: `{"resourceType":"Patient","birthDate":"1970","_birthDate":{"id":"b"}}`},
		{name: "a _name sibling with only an id and no value", res: `{"resourceType":"Patient","_birthDate":{"id":"b"}}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.birthDate", "an element must have a value or children other than its id (ele-1)")}},
		{name: "an extension on a primitive is validated as an extension", res: `{"resourceType":"Patient","birthDate":"1970","_birthDate":{"extension":[{"url":"http://x"}]}}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.birthDate.extension[0]", "an extension must have a value[x] or nested extensions (ext-1)")}},
		{name: "a canonical element may have a _name sibling though the schema omits it", res: `{"resourceType":"Patient","meta":{"profile":["https://example.org/p"],"_profile":[` + dar + `]}}`},
	})
}

func TestValidateResourceExtensions(t *testing.T) {
	pat := func(extensions string) string { return `{"resourceType":"Patient","extension":[` + extensions + `]}` }
	runValidateCases(t, []validateCase{
		{name: "an extension with a value", res: pat(`{"url":"http://example.org/a","valueString":"x"}`)},
		{name: "a complex extension with nested extensions", res: pat(`{"url":"http://example.org/a","extension":[{"url":"part","valueCode":"x"},{"url":"when","valuePeriod":{"start":"2024"}}]}`)},
		{name: "an extension without a url", res: pat(`{"valueString":"x"}`), kind: Invalid,
			want: []Issue{issue(IssueRequired, "Patient.extension[0].url", "missing required element 'url'")}},
		{name: "an extension with neither a value nor extensions", res: pat(`{"url":"http://example.org/a"}`), kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.extension[0]", "an extension must have a value[x] or nested extensions (ext-1)")}},
		{name: "an extension with both a value and extensions", res: pat(`{"url":"http://example.org/a","valueString":"x","extension":[{"url":"b","valueString":"y"}]}`), kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.extension[0]", "an extension must have either a value[x] or nested extensions, not both (ext-1)")}},
		{name: "an extension with two values", res: pat(`{"url":"http://example.org/a","valueString":"x","valueCode":"y"}`), kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.extension[0].value", "at most one of valueString, valueCode may be present")}},
		{name: "a value inside an extension is validated by its type", res: pat(`{"url":"http://example.org/a","valueReference":{"reference":"Patient/1","colour":"red"}}`), kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.extension[0].value.ofType(Reference).colour", "unknown element 'colour'")}},
		{name: "a Meta value, which the schema leaves out of Extension", res: pat(`{"url":"http://example.org/a","valueMeta":{"versionId":"1"}}`)},
		{name: "modifier extensions follow the same rules", res: `{"resourceType":"Patient","modifierExtension":[{"url":"http://example.org/a"}]}`, kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.modifierExtension[0]", "an extension must have a value[x] or nested extensions (ext-1)")}},
		{name: "extensions of nested extensions are checked", res: pat(`{"url":"http://example.org/a","extension":[{"url":"b"}]}`), kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.extension[0].extension[0]", "an extension must have a value[x] or nested extensions (ext-1)")}},
	})
}

func TestValidateResourceNarrative(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "a narrative in a div", res: `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Ann Jones</div>"}}`},
		{name: "a narrative that is not in a div", res: `{"resourceType":"Patient","text":{"status":"generated","div":"<p>Ann Jones</p>"}}`, kind: Invalid,
			want: []Issue{issue(IssueValue, "Patient.text.div", "the narrative must be XHTML starting with '<div', found '<p>Ann Jones</p>'")}},
		{name: "a narrative that is not a string", res: `{"resourceType":"Patient","text":{"status":"generated","div":{"p":"Ann"}}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.text.div", "expected a string, found an object")}},
		{name: "a narrative div has no _div sibling", res: `{"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>","_div":{"id":"d"}}}`, kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.text._div", "unknown element '_div': only primitive elements other than id have a '_' sibling")}},
	})
}

func TestValidateResourceContainedResources(t *testing.T) {
	pat := func(contained string) string {
		return `{"resourceType":"Patient","contained":[` + contained + `],"generalPractitioner":[{"reference":"#gp"}]}`
	}
	runValidateCases(t, []validateCase{
		{name: "a contained resource", res: pat(`{"resourceType":"Practitioner","id":"gp","name":[{"family":"Who"}]}`)},
		{name: "a contained resource is validated with its own type",
			res: pat(`{"resourceType":"Practitioner","id":"gp","name":{"family":"Who"},"gender":"f"}`), kind: Invalid,
			want: []Issue{
				issue(IssueStructure, "Patient.contained[0].name", "expected an array, found an object"),
				issue(IssueValue, "Patient.contained[0].gender", "'f' is not one of the codes allowed for Practitioner.gender: male | female | other | unknown"),
			}},
		{name: "a contained resource without an id", res: pat(`{"resourceType":"Practitioner","active":true}`), kind: Invalid,
			want: []Issue{issue(IssueRequired, "Patient.contained[0].id", "missing required element 'id': a contained resource must have an id for references to point at")}},
		{name: "a contained resource containing resources",
			res: pat(`{"resourceType":"Practitioner","id":"gp","contained":[{"resourceType":"Organization","id":"o"}]}`), kind: Invalid,
			want: []Issue{issue(IssueInvariant, "Patient.contained[0].contained", "a contained resource must not contain resources (dom-2)")}},
		{name: "a contained resource without a resourceType", res: pat(`{"id":"gp"}`), kind: Invalid,
			want: []Issue{issue(IssueRequired, "Patient.contained[0]", "missing required element 'resourceType'")}},
		{name: "a contained resource of an unknown type", res: pat(`{"resourceType":"Doctor","id":"gp"}`), kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.contained[0].resourceType", "'Doctor' is not a FHIR R4 resource type")}},
		{name: "a contained item that is not an object", res: pat(`"gp"`), kind: Invalid,
			want: []Issue{issue(IssueStructure, "Patient.contained[0]", "expected a resource (a JSON object), found a string")}},
	})
}

func TestValidateResourceBundles(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "a transaction Bundle",
			res: `{"resourceType":"Bundle","type":"transaction","entry":[` +
				`{"fullUrl":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8","resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]},"request":{"method":"POST","url":"Patient"}},` +
				`{"resource":{"resourceType":"Observation","status":"final","code":{"text":"BP"},"subject":{"reference":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"}},"request":{"method":"POST","url":"Observation"}}]}`},
		{name: "entries' resources and requests are validated",
			res: `{"resourceType":"Bundle","type":"transaction","entry":[` +
				`{"resource":{"resourceType":"Patient","birthDate":"1970-02-30"},"request":{"method":"POST","url":"Patient"}},` +
				`{"resource":{"resourceType":"Observation","code":{"text":"BP"}},"request":{"method":"SEND","url":"Observation"}}]}`, kind: Invalid,
			want: []Issue{
				issue(IssueValue, "Bundle.entry[0].resource.birthDate", "'1970-02-30' is not a valid date: 1970-02 has no day 30"),
				issue(IssueRequired, "Bundle.entry[1].resource.status", "missing required element 'status'"),
				issue(IssueValue, "Bundle.entry[1].request.method", "'SEND' is not one of the codes allowed for Bundle.entry.request.method: GET | HEAD | POST | PUT | DELETE | PATCH"),
			}},
		{name: "a Bundle without a type", res: `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}}]}`, kind: Invalid,
			want: []Issue{issue(IssueRequired, "Bundle.type", "missing required element 'type'")}},
		{name: "an entry with the resource's elements but no resource",
			res: `{"resourceType":"Bundle","type":"searchset","entry":[{"resourceType":"Patient","gender":"female"}]}`, kind: Invalid,
			want: []Issue{
				issue(IssueStructure, "Bundle.entry[0].resourceType", "'resourceType' is allowed only at the top of a resource"),
				issue(IssueStructure, "Bundle.entry[0].gender", "unknown element 'gender'"),
			}},
	})
}

func TestValidateResourceNHSNumbers(t *testing.T) {
	pat := func(nhs string) string {
		return `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}]}`
	}
	runValidateCases(t, []validateCase{
		{name: "a valid NHS number", res: pat("9000000009")},
		{name: "a valid NHS number written with spaces", res: pat("943 476 5919")},
		{name: "a valid NHS number written with dashes", res: pat("947-671-9931")},
		{name: "an NHS number whose check digit does not match", res: pat("9000000001"), kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Patient.identifier[0].value", "'9000000001' is not a valid NHS number: the check digit does not match")}},
		{name: "an NHS number of nine digits", res: pat("900000000"), kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Patient.identifier[0].value", "'900000000' is not a valid NHS number: it must have 10 digits")}},
		{name: "an NHS number with a letter", res: pat("90000000A9"), kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Patient.identifier[0].value", "'90000000A9' is not a valid NHS number: it may contain only digits, spaces and dashes")}},
		{name: "an NHS number whose first nine digits allow no check digit", res: pat("1000000010"), kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Patient.identifier[0].value", "'1000000010' is not a valid NHS number: no check digit is possible for its first nine digits")}},
		{name: "an invalid NHS number in a reference's identifier",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000001"}}}`, kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Observation.subject.identifier.value", "'9000000001' is not a valid NHS number: the check digit does not match")}},
		{name: "an invalid NHS number in a contained resource",
			res: `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"contained":[{"resourceType":"Patient","id":"p","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000001"}]}],"subject":{"reference":"#p"}}`, kind: Unprocessable,
			want: []Issue{issue(IssueValue, "Observation.contained[0].identifier[0].value", "'9000000001' is not a valid NHS number: the check digit does not match")}},
		{name: "an invalid NHS number beside a structural fault makes the resource Invalid",
			res: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000001"}],"colour":"blue"}`, kind: Invalid,
			want: []Issue{
				issue(IssueValue, "Patient.identifier[0].value", "'9000000001' is not a valid NHS number: the check digit does not match"),
				issue(IssueStructure, "Patient.colour", "unknown element 'colour'"),
			}},
		{name: "other identifier systems are not checked as NHS numbers",
			res: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.hl7.org.uk/Id/local","value":"9000000001"}]}`},
	})
}

func TestValidateResourceReportsAtMost100Issues(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient"`)
	for i := range 150 {
		fmt.Fprintf(&b, `,"x%d":1`, i)
	}
	b.WriteString(`}`)
	v, err := ParseJSON([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := errors.AsType[*Error](ValidateResource(v))
	if !ok {
		t.Fatal("ValidateResource accepted 150 unknown elements")
	}
	if len(e.Issues) != 101 {
		t.Fatalf("got %d issues, want 100 and a note", len(e.Issues))
	}
	if diff := cmp.Diff(issue(IssueStructure, "Patient.x99", "unknown element 'x99'"), e.Issues[99]); diff != "" {
		t.Errorf("the 100th issue (-want +got):\n%s", diff)
	}
	want := Issue{Severity: SeverityInformation, Code: IssueInformational, Diagnostics: "validation stopped after 100 issues"}
	if diff := cmp.Diff(want, e.Issues[100]); diff != "" {
		t.Errorf("the last issue (-want +got):\n%s", diff)
	}
}

func TestDecodeResource(t *testing.T) {
	t.Run("a valid resource is returned as sent", func(t *testing.T) {
		const in = `{"resourceType":"Patient","gender":"female","birthDate":"1970-01-01"}`
		v, err := DecodeResource([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := compact(v); got != in {
			t.Errorf("got %s, want %s", got, in)
		}
	})
	t.Run("an invalid resource is an Invalid error", func(t *testing.T) {
		_, err := DecodeResource([]byte(`{"resourceType":"Patient","gender":"f"}`))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("err = %v, want an Invalid *Error", err)
		}
	})
	t.Run("a resource breaking only the NHS number rule is Unprocessable", func(t *testing.T) {
		_, err := DecodeResource([]byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000001"}]}`))
		if !errors.Is(err, ErrUnprocessable) {
			t.Errorf("err = %v, want an Unprocessable *Error", err)
		}
	})
}

// outcomeGolden compares got with the golden file path, or rewrites it
// with -update.
func outcomeGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestValidateResourceOutcomes pins the OperationOutcome a sender receives
// for each resource under testdata/validate: NAME.json gives NAME.outcome.json.
func TestValidateResourceOutcomes(t *testing.T) {
	files, err := filepath.Glob("testdata/validate/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".outcome.json") })
	// The error kind each resource must give, by name; absent means valid.
	kinds := map[string]Kind{
		"bundle-transaction-with-faults":  Invalid,
		"observation-with-many-faults":    Invalid,
		"patient-with-invalid-nhs-number": Unprocessable,
	}
	if len(files) == 0 {
		t.Fatal("no resources under testdata/validate")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var issues []Issue
			_, err = DecodeResource(data)
			want, invalid := kinds[name]
			switch {
			case err == nil && invalid:
				t.Errorf("DecodeResource accepted it, want a %v error", want)
			case err != nil && !invalid:
				t.Errorf("DecodeResource: %v, want nil", err)
			case err != nil:
				e := AsError(err)
				issues = e.Issues
				if e.Kind != want {
					t.Errorf("Kind = %v, want %v", e.Kind, want)
				}
			}
			out := append(Indent(OperationOutcome(issues)), '\n')
			outcomeGolden(t, strings.TrimSuffix(f, ".json")+".outcome.json", out)
		})
	}
}

// externalFixtures returns the NHS England example files, relative to the
// repository root.
func externalFixtures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"../testdata/fixtures/external/nhs-bars/resources/*.json",
		"../testdata/fixtures/external/nhs-bars/*.json",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no external fixtures found")
	}
	slices.Sort(files)
	return files
}

// TestValidateResourceOnExternalFixtures validates every NHS England example
// and pins what is said of each in testdata/external-validation.golden: a
// change of behaviour on real-world FHIR shows up as a diff to review.
func TestValidateResourceOnExternalFixtures(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# What ValidateResource says of each NHS England example under testdata/fixtures/external.\n")
	b.WriteString("# Regenerate with: go test ./fhir -run TestValidateResourceOnExternalFixtures -update\n")
	for _, f := range externalFixtures(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n%s: ", strings.TrimPrefix(filepath.ToSlash(f), "../"))
		_, err = DecodeResource(data)
		if err == nil {
			b.WriteString("valid\n")
			continue
		}
		e := AsError(err)
		fmt.Fprintf(&b, "%v\n", e.Kind)
		for _, is := range e.Issues {
			fmt.Fprintf(&b, "  %s %s: %s\n", is.Code, is.Expression, is.Diagnostics)
		}
	}
	outcomeGolden(t, "testdata/external-validation.golden", b.Bytes())
}

// benchmarkFixtures are a realistic Observation and Patient: NHS England's
// BaRS examples.
var benchmarkFixtures = []string{
	"../testdata/fixtures/external/nhs-bars/resources/examples-process_message-request-ValidationRequest-POST---16-Observation.json",
	"../testdata/fixtures/external/nhs-bars/resources/examples-process_message-POST-body--02-Patient.json",
}

func BenchmarkValidateResource(b *testing.B) {
	for _, f := range benchmarkFixtures {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		v, err := ParseJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(v.Str("resourceType"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := ValidateResource(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeResource(b *testing.B) {
	for _, f := range benchmarkFixtures {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeResource(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleValidateResource() {
	res, err := ParseJSON([]byte(`{
		"resourceType": "Observation",
		"status": "finalised",
		"code": {"text": "Body weight"},
		"effectiveDateTime": "2025-02-30",
		"valueQuantity": {"value": "72.5", "unit": "kg"},
		"colour": "blue"
	}`))
	if err != nil {
		panic(err)
	}
	e := AsError(ValidateResource(res))
	fmt.Println(e.Kind)
	for _, is := range e.Issues {
		fmt.Printf("%s %s: %s\n", is.Code, is.Expression, is.Diagnostics)
	}
	// Output:
	// invalid
	// value Observation.status: 'finalised' is not one of the codes allowed for Observation.status: registered | preliminary | final | amended | corrected | cancelled | entered-in-error | unknown
	// value Observation.effective.ofType(dateTime): '2025-02-30' is not a valid dateTime: 2025-02 has no day 30
	// structure Observation.value.ofType(Quantity).value: expected a number, found a string
	// structure Observation.colour: unknown element 'colour'
}
