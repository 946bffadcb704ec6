package fhir

import (
	"strconv"
	"strings"
)

// RefKind classifies the string of a Reference.reference.
type RefKind uint8

// The kinds of reference strings.
const (
	RefInvalid     RefKind = iota // none of the forms below
	RefRelative                   // "Patient/123" or "Patient/123/_history/2", on this server
	RefAbsolute                   // an absolute URL, "https://example.org/fhir/Patient/123"
	RefUUID                       // "urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7", usually a Bundle entry's fullUrl
	RefOID                        // "urn:oid:1.2.3.4"
	RefContained                  // "#p1", a contained resource; "#" is the containing resource
	RefConditional                // "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", resolved in a transaction
)

var refKindNames = [...]string{"invalid", "relative", "absolute", "uuid", "oid", "contained", "conditional"}

// String returns the kind's name.
func (k RefKind) String() string {
	if int(k) < len(refKindNames) {
		return refKindNames[k]
	}
	return "refkind(" + strconv.Itoa(int(k)) + ")"
}

// Reference is a classified Reference.reference string.
type Reference struct {
	Kind RefKind
	// Type is the resource type of a relative or conditional reference, and
	// of an absolute URL that ends in Type/id or Type/id/_history/version.
	Type string
	// ID is the resource id where Type is set, and the contained resource's
	// id of a contained reference ("" for "#").
	ID string
	// Version is the version of a "/_history/version" reference.
	Version string
	// URL is the whole string of an absolute URL, uuid or oid reference.
	URL string
	// Query is the search of a conditional reference, after the "?".
	Query string
}

// ParseReference classifies a reference string. A relative reference needs a
// known R4 resource type and an id (and version) of FHIR's id syntax; a
// uuid must have the 8-4-4-4-12 hex digit form; an oid the dotted-number
// form; a string with whitespace is RefInvalid.
func ParseReference(s string) Reference {
	if s == "" || hasSpace(s) {
		return Reference{}
	}
	switch {
	case s[0] == '#':
		if s == "#" || isID(s[1:]) {
			return Reference{Kind: RefContained, ID: s[1:]}
		}
		return Reference{}
	case strings.HasPrefix(s, "urn:uuid:"):
		if isUUIDText(s[len("urn:uuid:"):]) {
			return Reference{Kind: RefUUID, URL: s}
		}
		return Reference{}
	case strings.HasPrefix(s, "urn:oid:"):
		if isOID(s) {
			return Reference{Kind: RefOID, URL: s}
		}
		return Reference{}
	}
	if typ, query, ok := strings.Cut(s, "?"); ok {
		if IsResourceType(typ) {
			return Reference{Kind: RefConditional, Type: typ, Query: query}
		}
		if !hasScheme(s) {
			return Reference{}
		}
	}
	if hasScheme(s) {
		r := Reference{Kind: RefAbsolute, URL: s}
		path := s
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		r.Type, r.ID, r.Version, _ = splitRESTPath(path, true)
		return r
	}
	typ, id, version, ok := splitRESTPath(s, false)
	if !ok {
		return Reference{}
	}
	return Reference{Kind: RefRelative, Type: typ, ID: id, Version: version}
}

// splitRESTPath reads "Type/id" or "Type/id/_history/version" at the end of
// path (suffix) or as the whole of it.
func splitRESTPath(path string, suffix bool) (typ, id, version string, ok bool) {
	parts := strings.Split(path, "/")
	n := len(parts)
	switch {
	case n >= 4 && parts[n-2] == "_history":
		if !isID(parts[n-1]) {
			return "", "", "", false
		}
		version = parts[n-1]
		parts = parts[:n-2]
	case n > 2 && !suffix:
		return "", "", "", false
	}
	n = len(parts)
	if n < 2 || (!suffix && n != 2) || !IsResourceType(parts[n-2]) || !isID(parts[n-1]) {
		return "", "", "", false
	}
	return parts[n-2], parts[n-1], version, true
}

// hasScheme reports whether s starts with a URI scheme and a colon.
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':':
			return i > 0
		default:
			return false
		}
	}
	return false
}

// isUUIDText reports whether s is 8-4-4-4-12 hex digits, of either case.
func isUUIDText(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ForEachReference calls fn for every element of FHIR type Reference in the
// resource v, depth first in document order: in backbone elements, in
// extensions (valueReference), in Reference.identifier.assigner, in contained
// resources and in Bundle entries' resources. expression is the element's
// FHIRPath ("Observation.subject", "Patient.contained[0].managingOrganization",
// "Bundle.entry[2].resource.subject"); ref points into v, so that fn can
// rewrite the reference in place (ref.Set("reference", ...)).
//
// v should be valid (ValidateResource); elements that are unknown or of the
// wrong JSON kind are skipped. The walk stops at the first error fn returns,
// which ForEachReference returns. v must be an object with a known
// resourceType, else the error is an Invalid *Error.
func ForEachReference(v *Value, fn func(expression string, ref *Value) error) error {
	rt := v.Str("resourceType")
	t := resourceTypeID(rt)
	if v.kind != JSONObject || t == tNone {
		return Errorf(Invalid, IssueStructure, "", "the value is not a FHIR R4 resource")
	}
	w := refWalker{fn: fn, path: append(make([]byte, 0, 64), rt...)}
	return w.object(v, t)
}

type refWalker struct {
	fn   func(string, *Value) error
	path []byte
}

func (w *refWalker) object(v *Value, t typeID) error {
	for i := range v.members {
		m := &v.members[i]
		e := t.element(m.Name)
		if e == nil || e.typ.isPrimitive() {
			continue
		}
		n := len(w.path)
		w.path = appendElementPath(w.path, e)
		var err error
		if e.flags&fArray != 0 {
			for j := range m.Value.items {
				k := len(w.path)
				w.path = appendIndex(w.path, j)
				err = w.value(&m.Value.items[j], e.typ)
				w.path = w.path[:k]
				if err != nil {
					break
				}
			}
		} else {
			err = w.value(&m.Value, e.typ)
		}
		w.path = w.path[:n]
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *refWalker) value(v *Value, t typeID) error {
	if v.kind != JSONObject {
		return nil
	}
	if t == tResource {
		rt := resourceTypeID(v.Str("resourceType"))
		if rt == tNone {
			return nil
		}
		return w.object(v, rt)
	}
	if t == tReference {
		if err := w.fn(string(w.path), v); err != nil {
			return err
		}
	}
	return w.object(v, t)
}

// appendElementPath appends ".name" to a FHIRPath, or ".base.ofType(Type)"
// for a member of a choice group.
func appendElementPath(path []byte, e *elementDef) []byte {
	path = append(path, '.')
	if e.choice == 0 {
		return append(path, e.name...)
	}
	path = append(path, r4Choices[e.choice].name...)
	path = append(path, ".ofType("...)
	path = append(path, r4Types[e.typ].name...)
	return append(path, ')')
}

// appendIndex appends "[i]" to a FHIRPath.
func appendIndex(path []byte, i int) []byte {
	path = append(path, '[')
	path = strconv.AppendInt(path, int64(i), 10)
	return append(path, ']')
}
