package fhir

// The FHIR R4 type table (schema_r4_gen.go) is generated from HL7's FHIR R4
// JSON schema; see internal/schemagen for where to get the schema file.
//
//go:generate go run ./internal/schemagen -schema=$FHIR_R4_SCHEMA -o schema_r4_gen.go

// typeID identifies a FHIR R4 type in r4Types. tNone (0) is no type.
type typeID uint16

// typeKind says what a FHIR type is.
type typeKind uint8

// The kinds of FHIR types. A backbone type is an element defined inside a
// resource or data type (Observation.referenceRange); the pseudo type
// tResource, any resource, has kindResource.
const (
	kindPrimitive typeKind = iota + 1
	kindComplex
	kindBackbone
	kindResource
)

// baseID names an element set that types inherit.
type baseID uint8

// The inherited element sets: Element's (id, extension), BackboneElement's
// (and modifierExtension), Resource's (id, meta, implicitRules, language) and
// DomainResource's (and text, contained, extension, modifierExtension).
const (
	baseNone baseID = iota
	baseElement
	baseBackbone
	baseResource
	baseDomainResource
)

// span is a range of r4Elements.
type span struct{ first, end uint16 }

// typeDef describes one FHIR type.
type typeDef struct {
	name        string // schema name: "Observation", "Observation_ReferenceRange", "dateTime"
	path        string // element path: "Observation.referenceRange"
	kind        typeKind
	base        baseID
	first, end  uint16 // own elements: r4Elements[first:end], by length then name
	choiceFirst uint16 // choice groups: r4Choices[choiceFirst:choiceEnd]
	choiceEnd   uint16
	required    uint8 // how many own elements are required
}

// elemFlags are an element's cardinality flags.
type elemFlags uint8

const (
	fArray    elemFlags = 1 << iota // maximum cardinality above 1: a JSON array
	fRequired                       // minimum cardinality 1 (choice members: see choiceDef)
)

// elementDef is one element of a type, as it appears in JSON: each member of
// a choice group is an element of its own ("effectiveDateTime").
type elementDef struct {
	name   string
	typ    typeID
	flags  elemFlags
	choice uint16 // index in r4Choices, 0 if not a choice member
	enum   uint16 // index in r4Enums of the required binding's codes, 0 if none
}

// choiceDef is a choice group, effective[x].
type choiceDef struct {
	name     string // "effective"
	required bool   // minimum cardinality 1: one member must be present
}

// def returns the definition of type t.
func (t typeID) def() *typeDef { return &r4Types[t] }

// isPrimitive reports whether t is a primitive type.
func (t typeID) isPrimitive() bool { return r4Types[t].kind == kindPrimitive }

// element returns the element of type t called name, or nil.
func (t typeID) element(name string) *elementDef {
	d := &r4Types[t]
	if e := searchElements(d.first, d.end, name); e != nil {
		return e
	}
	b := r4Bases[d.base]
	return searchElements(b.first, b.end, name)
}

// searchElements finds name among r4Elements[first:end], which are sorted
// by length, then by name, so that most comparisons are of lengths.
func searchElements(first, end uint16, name string) *elementDef {
	lo, hi := int(first), int(end)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e := r4Elements[m].name; len(e) < len(name) || len(e) == len(name) && e < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < int(end) && r4Elements[lo].name == name {
		return &r4Elements[lo]
	}
	return nil
}

// elements calls fn for each element of type t, inherited ones first.
func (t typeID) elements(fn func(e *elementDef)) {
	d := &r4Types[t]
	b := r4Bases[d.base]
	for i := b.first; i < b.end; i++ {
		fn(&r4Elements[i])
	}
	for i := d.first; i < d.end; i++ {
		fn(&r4Elements[i])
	}
}

// allowsExtension reports whether element e may have a _name sibling holding
// the id and extensions of its primitive value: every primitive element but
// ids and Narrative.div.
func (e *elementDef) allowsExtension() bool {
	return e.typ.isPrimitive() && e.typ != tXhtml && e.name != "id"
}

// resourceTypeID returns the R4 resource type called name, or tNone.
func resourceTypeID(name string) typeID {
	lo, hi := int(r4FirstResource), int(r4LastResource)+1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r4Types[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo <= int(r4LastResource) && r4Types[lo].name == name {
		return typeID(lo)
	}
	return tNone
}

// IsResourceType reports whether name is a FHIR R4 resource type, such as
// "Patient" (and not "Resource", "DomainResource" or a data type).
func IsResourceType(name string) bool { return resourceTypeID(name) != tNone }
