package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// servedModels are the samply structs of the resource types CareBridge serves.
var servedModels = []reflect.Type{
	reflect.TypeFor[models.Patient](),
	reflect.TypeFor[models.Organization](),
	reflect.TypeFor[models.Practitioner](),
	reflect.TypeFor[models.PractitionerRole](),
	reflect.TypeFor[models.ServiceRequest](),
	reflect.TypeFor[models.Condition](),
	reflect.TypeFor[models.CarePlan](),
	reflect.TypeFor[models.Task](),
	reflect.TypeFor[models.Observation](),
	reflect.TypeFor[models.Procedure](),
	reflect.TypeFor[models.EpisodeOfCare](),
	reflect.TypeFor[models.Encounter](),
	reflect.TypeFor[models.Provenance](),
	reflect.TypeFor[models.Subscription](),
}

func TestServedModelsAreTheServedTypes(t *testing.T) {
	var names []string
	for _, m := range servedModels {
		names = append(names, m.Name())
	}
	slices.Sort(names)
	if diff := cmp.Diff(ServedTypes(), names); diff != "" {
		t.Errorf("servedModels (-served +models):\n%s", diff)
	}
}

// elementFacts is what the table and samply must agree on for one element.
type elementFacts struct {
	Required bool     // a required element, or a member of a required choice group
	Type     string   // FHIR type of a data type element, Go kind of a primitive, "" for backbone types
	Codes    []string // codes of a required binding, sorted
}

// tableFacts describes the elements of table type t, by JSON name.
func tableFacts(t typeID) map[string]elementFacts {
	out := map[string]elementFacts{}
	t.elements(func(e *elementDef) {
		f := elementFacts{Required: e.flags&fRequired != 0}
		if e.choice != 0 {
			f.Required = r4Choices[e.choice].required
		}
		switch d := e.typ.def(); d.kind {
		case kindPrimitive:
			switch e.typ {
			case tBoolean:
				f.Type = "bool"
			case tInteger, tPositiveInt, tUnsignedInt:
				f.Type = "int"
			case tDecimal:
				f.Type = "json.Number"
			default:
				f.Type = "string"
			}
		case kindComplex:
			f.Type = d.name
		}
		if e.enum != 0 {
			f.Codes = slices.Sorted(slices.Values(r4Enums[e.enum]))
		}
		out[e.name] = f
	})
	return out
}

// modelFacts describes the fields of samply struct m, by JSON name.
func modelFacts(m reflect.Type, backbone func(name string) bool) map[string]elementFacts {
	out := map[string]elementFacts{}
	for i := range m.NumField() {
		f := m.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		facts := elementFacts{Required: !strings.Contains(opts, "omitempty")}
		switch {
		case ft == reflect.TypeFor[json.Number]():
			facts.Type = "json.Number"
		case ft.Kind() == reflect.Struct && backbone(name):
		case ft.Kind() == reflect.Struct:
			facts.Type = ft.Name()
		case ft.Kind() == reflect.Int && hasCodes(ft):
			facts.Type = "string"
			facts.Codes = slices.Sorted(slices.Values(modelCodes(ft)))
		default:
			facts.Type = ft.Kind().String()
		}
		out[name] = facts
	}
	return out
}

func hasCodes(t reflect.Type) bool {
	_, ok := t.MethodByName("Code")
	return ok
}

// modelCodes lists the codes of a samply code type by calling Code on 0, 1...
func modelCodes(t reflect.Type) []string {
	m, _ := t.MethodByName("Code")
	var codes []string
	for i := 0; ; i++ {
		v := reflect.New(t).Elem()
		v.SetInt(int64(i))
		c := m.Func.Call([]reflect.Value{v})[0].String()
		if c == "<unknown>" {
			return codes
		}
		codes = append(codes, c)
	}
}

// TestSchemaAgreesWithSamply walks the table and the samply structs in step
// from each served resource type, through every backbone element and data
// type they use: the same element names (but contained, which samply
// lacks), the same required elements and choice groups, the same types and
// the same codes of required bindings where samply has them.
func TestSchemaAgreesWithSamply(t *testing.T) {
	visited := map[typeID]bool{}
	var walk func(t *testing.T, typ typeID, m reflect.Type)
	walk = func(t *testing.T, typ typeID, m reflect.Type) {
		if visited[typ] {
			return
		}
		visited[typ] = true
		table := tableFacts(typ)
		backbone := func(name string) bool {
			e := typ.element(name)
			return e != nil && e.typ.def().kind == kindBackbone
		}
		model := modelFacts(m, backbone)
		if _, ok := table["contained"]; ok {
			model["contained"] = table["contained"] // samply leaves contained out
		}
		for name, f := range model {
			// samply types some bound codes as plain strings; the table
			// then has the schema's codes.
			if tf, ok := table[name]; ok && f.Codes == nil && f.Type == "string" {
				f.Codes = tf.Codes
				model[name] = f
			}
		}
		if diff := cmp.Diff(model, table); diff != "" {
			t.Errorf("%s: table and samply %s differ (-samply +table):\n%s", typ.def().path, m.Name(), diff)
		}
		for i := range m.NumField() {
			f := m.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			e := typ.element(name)
			if e == nil || e.typ.isPrimitive() {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(t, e.typ, ft)
			}
		}
	}
	for _, m := range servedModels {
		t.Run(m.Name(), func(t *testing.T) {
			typ := resourceTypeID(m.Name())
			if typ == tNone {
				t.Fatalf("the table has no %s", m.Name())
			}
			walk(t, typ, m)
		})
	}
	for _, typ := range []typeID{tExtension, tIdentifier, tDosage, tTimingRepeat, tObservationReferenceRange, tTaskInput, tEncounterHospitalization, tNarrative} {
		if !visited[typ] {
			t.Errorf("the walk did not reach %s", typ.def().path)
		}
	}
}

func TestSchemaTableIsConsistent(t *testing.T) {
	t.Run("every element is found by its name", func(t *testing.T) {
		for typ := typeID(1); typ < r4TypeCount; typ++ {
			typ.elements(func(e *elementDef) {
				if got := typ.element(e.name); got != e {
					t.Errorf("%s.%s: element lookup found %v", typ.def().path, e.name, got)
				}
			})
			if e := typ.element("noSuchElement"); e != nil {
				t.Errorf("%s.noSuchElement found", typ.def().path)
			}
		}
	})
	t.Run("every resource type is found by its name", func(t *testing.T) {
		n := 0
		for typ := r4FirstResource; typ <= r4LastResource; typ++ {
			if got := resourceTypeID(typ.def().name); got != typ {
				t.Errorf("resourceTypeID(%q) = %d, want %d", typ.def().name, got, typ)
			}
			if typ.def().kind != kindResource {
				t.Errorf("%s is in the resource range but of kind %d", typ.def().name, typ.def().kind)
			}
			n++
		}
		if n != 146 {
			t.Errorf("%d resource types, want FHIR R4's 146", n)
		}
	})
	t.Run("choice groups name their members' types", func(t *testing.T) {
		for typ := typeID(1); typ < r4TypeCount; typ++ {
			typ.elements(func(e *elementDef) {
				if e.choice == 0 {
					return
				}
				d := e.typ.def()
				want := r4Choices[e.choice].name + strings.ToUpper(d.name[:1]) + d.name[1:]
				if e.name != want {
					t.Errorf("%s.%s is in choice group %s[x] with type %s", typ.def().path, e.name, r4Choices[e.choice].name, d.name)
				}
				if e.flags&fRequired != 0 || e.flags&fArray != 0 {
					t.Errorf("%s.%s: a choice member must be single and optional by itself", typ.def().path, e.name)
				}
			})
		}
	})
}

func TestIsResourceType(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"Patient", true},
		{"Account", true},
		{"VisionPrescription", true},
		{"Bundle", true},
		{"patient", false},
		{"Resource", false},
		{"DomainResource", false},
		{"HumanName", false},
		{"Observation_ReferenceRange", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsResourceType(tc.name); got != tc.want {
			t.Errorf("IsResourceType(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSchemaKnowsWhatTheSchemaFileGetsWrong pins the places where the
// generator mends HL7's R4 JSON schema from the R4 definitions.
func TestSchemaKnowsWhatTheSchemaFileGetsWrong(t *testing.T) {
	element := func(typ typeID, path ...string) *elementDef {
		var e *elementDef
		for _, name := range path {
			e = typ.element(name)
			if e == nil {
				return nil
			}
			typ = e.typ
		}
		return e
	}
	t.Run("Meta is an open type of Extension.value[x]", func(t *testing.T) {
		if e := element(tExtension, "valueMeta"); e == nil || e.typ != tMeta || e.choice == 0 {
			t.Errorf("Extension.valueMeta = %+v", e)
		}
	})
	t.Run("Element-typed parts of data types have no modifierExtension", func(t *testing.T) {
		for _, path := range [][]string{{"repeat", "modifierExtension"}} {
			if e := element(tTiming, path...); e != nil {
				t.Errorf("Timing.%s exists", strings.Join(path, "."))
			}
		}
		if e := element(tDosage, "doseAndRate", "modifierExtension"); e != nil {
			t.Error("Dosage.doseAndRate.modifierExtension exists")
		}
		if e := element(tObservation, "component", "modifierExtension"); e == nil {
			t.Error("Observation.component.modifierExtension, of a BackboneElement, is missing")
		}
	})
	t.Run("CapabilityStatement.fhirVersion allows 4.0.1", func(t *testing.T) {
		e := element(tCapabilityStatement, "fhirVersion")
		if e == nil || !slices.Contains(r4Enums[e.enum], "4.0.1") {
			t.Errorf("CapabilityStatement.fhirVersion codes = %v", r4Enums[e.enum])
		}
	})
	t.Run("canonical elements may have a _name sibling", func(t *testing.T) {
		if e := element(tMeta, "profile"); e == nil || !e.allowsExtension() {
			t.Errorf("Meta.profile = %+v", e)
		}
	})
	t.Run("required choice groups are required", func(t *testing.T) {
		for _, path := range [][]string{
			{"input", "valueString"}, {"output", "valueString"},
		} {
			if e := element(tTask, path...); e == nil || !r4Choices[e.choice].required {
				t.Errorf("Task.%s is not in a required choice group", strings.Join(path, "."))
			}
		}
		if e := element(tUsageContext, "valueQuantity"); e == nil || !r4Choices[e.choice].required {
			t.Error("UsageContext.value[x] is not required")
		}
		if e := element(tObservation, "valueQuantity"); e == nil || r4Choices[e.choice].required {
			t.Error("Observation.value[x] is required")
		}
	})
}

// TestGeneratorReproducesTheCommittedTable runs the generator on HL7's
// schema file and compares its output with schema_r4_gen.go. The schema
// file is not in the repository: set FHIR_R4_SCHEMA to its path (default
// /tmp/fhir.schema.json); the test is skipped without it.
func TestGeneratorReproducesTheCommittedTable(t *testing.T) {
	schema := os.Getenv("FHIR_R4_SCHEMA")
	if schema == "" {
		schema = "/tmp/fhir.schema.json"
	}
	if _, err := os.Stat(schema); err != nil {
		t.Skipf("no FHIR R4 JSON schema at %s (set FHIR_R4_SCHEMA): %v", schema, err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	out := filepath.Join(t.TempDir(), "schema_r4_gen.go")
	cmd := exec.Command(goTool, "run", "./internal/schemagen", "-schema", schema, "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("schemagen: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("schema_r4_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schemagen output differs from schema_r4_gen.go: run go generate:\n%s", cmp.Diff(string(want), string(got)))
	}
}
