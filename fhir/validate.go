package fhir

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxIssues bounds the issues one validation reports.
const maxIssues = 100

// DecodeResource parses data as one JSON value (ParseJSON) and validates it
// as a FHIR R4 resource (ValidateResource). The error is an *Error: Invalid
// for malformed JSON or an invalid resource, Unprocessable when the resource
// is well formed but breaks a business rule.
func DecodeResource(data []byte) (Value, error) {
	v, err := ParseJSON(data)
	if err != nil {
		return Value{}, err
	}
	if err := ValidateResource(v); err != nil {
		return Value{}, err
	}
	return v, nil
}

// ValidateResource checks that res is a FHIR R4 resource as the JSON format
// defines it, strictly: what encoding/json and the samply models let through
// silently is refused. It returns nil or an *Error holding every issue found
// (at most 100), each with a FHIRPath expression ("Patient.identifier[0].value",
// "Observation.value.ofType(Quantity)", "Patient.contained[0].name") and a
// diagnostics sentence.
//
// The rules:
//
//   - res is a JSON object whose resourceType names an R4 resource type;
//     resourceType appears only at the top of a resource;
//   - every member is an element of its type (code structure); its JSON kind
//     fits the element's type (strings, numbers without fraction or exponent
//     for integer types, true/false) and it is an array exactly when the
//     element repeats;
//   - elements of minimum cardinality 1 are present, by value or by their
//     _name extension object (code required), as is one member of a required
//     choice group; at most one member of a choice group is present;
//   - primitive values have their type's format (code value): id, date,
//     dateTime, instant and time (impossible dates such as 2025-02-30
//     refused), code, uri, url, canonical, oid, uuid, base64Binary, the
//     integer ranges, non-empty strings without control characters, and
//     codes of required bindings;
//   - no empty objects or arrays, no null but in a primitive array paired
//     with its _name array (ele-1, JSON format rules); a primitive's _name
//     sibling pairs with it item by item;
//   - an Extension has a url and either a value[x] or nested extensions
//     (ext-1, code invariant); Narrative.div is XHTML starting with <div;
//   - contained resources and Bundle entries' resources are validated as
//     resources; a contained resource has an id and contains no resources
//     (dom-2);
//   - every Identifier of system SystemNHSNumber holds a valid NHS number.
//
// The Kind is Invalid when any issue is structural or of format, cardinality
// or invariant, and Unprocessable when the only issues are business rules
// (invalid NHS numbers).
func ValidateResource(res Value) error {
	var (
		buf [128]byte
		out issueList
	)
	v := validator{out: &out}
	v.resource(buf[:0], &res, true)
	return out.result()
}

// validator walks a resource with the R4 table. The FHIRPath of the value
// being checked is passed down as an argument, on a buffer that stays on
// the stack.
type validator struct {
	out       *issueList
	stopped   bool // maxIssues was reached
	contained int  // depth of contained resources
}

// issueList collects a validation's issues.
type issueList struct {
	issues  []Issue
	invalid bool // an issue that is not a business rule was found
	stopped bool
}

func (l *issueList) result() error {
	if len(l.issues) == 0 {
		return nil
	}
	kind := Unprocessable
	if l.invalid {
		kind = Invalid
	}
	issues := l.issues
	if l.stopped {
		issues = append(issues, Issue{
			Severity:    SeverityInformation,
			Code:        IssueInformational,
			Diagnostics: fmt.Sprintf("validation stopped after %d issues", maxIssues),
		})
	}
	return &Error{Kind: kind, Issues: issues}
}

// addAt records an issue at expression. Business rules (NHS numbers) do not
// make the resource Invalid.
func (v *validator) addAt(code IssueType, business bool, expression, msg string) {
	if len(v.out.issues) >= maxIssues {
		v.stopped = true
		v.out.stopped = true
		return
	}
	if !business {
		v.out.invalid = true
	}
	v.out.issues = append(v.out.issues, Issue{Severity: SeverityError, Code: code, Expression: expression, Diagnostics: msg})
}

// add records an issue at path.
func (v *validator) add(path []byte, code IssueType, format string, args ...any) {
	v.addAt(code, false, string(path), fmt.Sprintf(format, args...))
}

// addChild records an issue at path's child called name.
func (v *validator) addChild(path []byte, code IssueType, name string, format string, args ...any) {
	v.addAt(code, false, childPath(path, name), fmt.Sprintf(format, args...))
}

func childPath(path []byte, name string) string {
	if len(path) == 0 {
		return name
	}
	return string(path) + "." + name
}

// Object modes.
const (
	asResource = 1 << iota // a resource: no ele-1, resourceType allowed
	withValue              // the _name object of a primitive that has a value
)

// resource validates a resource at path: at the top (top), in contained, in
// a Bundle entry or a Parameters parameter.
func (v *validator) resource(path []byte, r *Value, top bool) {
	if r.kind != JSONObject {
		v.add(path, IssueStructure, "expected a resource (a JSON object), found %s", kindPhrase(r.kind))
		return
	}
	rt := r.Ptr("resourceType")
	if rt == nil {
		v.add(path, IssueRequired, "missing required element 'resourceType'")
		return
	}
	if rt.kind != JSONString {
		v.addChild(path, IssueStructure, "resourceType", "expected a string, found %s", kindPhrase(rt.kind))
		return
	}
	t := resourceTypeID(rt.text)
	if t == tNone {
		v.addChild(path, IssueStructure, "resourceType", "'%s' is not a FHIR R4 resource type", quoteValue(rt.text))
		return
	}
	if top {
		path = append(path, rt.text...)
	}
	v.object(path, r, t, asResource)
}

// choiceSeen records a choice group member present in an object.
type choiceSeen struct {
	choice uint16
	name   string
}

// object validates the members of an object of type t.
func (v *validator) object(path []byte, o *Value, t typeID, mode int) {
	if mode&asResource == 0 {
		switch {
		case len(o.members) == 0:
			v.add(path, IssueInvariant, "empty objects are not allowed: an element must have a value or children (ele-1)")
		case len(o.members) == 1 && o.members[0].Name == "id" && mode&withValue == 0:
			v.add(path, IssueInvariant, "an element must have a value or children other than its id (ele-1)")
		}
	}
	var seenBuf [8]choiceSeen
	seen := seenBuf[:0]
	for i := range o.members {
		if v.stopped {
			return
		}
		m := &o.members[i]
		name := m.Name
		if name == "resourceType" && mode&asResource != 0 {
			continue
		}
		if len(name) > 1 && name[0] == '_' {
			e := t.element(name[1:])
			if e == nil || !e.allowsExtension() {
				v.unknown(path, t, name)
				continue
			}
			if e.choice != 0 {
				seen = noteChoice(seen, e, name[1:])
			}
			v.primitiveExtension(appendElementPath(path, e), o, m, e)
			continue
		}
		e := t.element(name)
		if e == nil {
			v.unknown(path, t, name)
			continue
		}
		if e.choice != 0 {
			seen = noteChoice(seen, e, name)
		}
		v.member(appendElementPath(path, e), o, m, e, t)
	}
	v.cardinality(path, o, t, seen)
	switch t {
	case tExtension:
		v.extension(path, o)
	case tIdentifier:
		v.identifier(path, o)
	}
}

// noteChoice adds the choice member name to seen, once.
func noteChoice(seen []choiceSeen, e *elementDef, name string) []choiceSeen {
	for _, s := range seen {
		if s.choice == e.choice && s.name == name {
			return seen
		}
	}
	return append(seen, choiceSeen{e.choice, name})
}

// cardinality reports missing required elements, missing required choice
// groups and choice groups with more than one member.
func (v *validator) cardinality(path []byte, o *Value, t typeID, seen []choiceSeen) {
	d := t.def()
	for i := d.first; i < d.end && d.required > 0; i++ { // inherited elements are all optional
		e := &r4Elements[i]
		if e.flags&fRequired != 0 && !hasElement(o, e.name) {
			v.addChild(path, IssueRequired, e.name, "missing required element '%s'", e.name)
		}
	}
	for c := d.choiceFirst; c < d.choiceEnd; c++ {
		var names []string
		for _, s := range seen {
			if s.choice == c {
				names = append(names, s.name)
			}
		}
		switch {
		case len(names) == 0 && r4Choices[c].required:
			v.addChild(path, IssueRequired, r4Choices[c].name, "missing required element '%s[x]'", r4Choices[c].name)
		case len(names) > 1:
			v.addChild(path, IssueStructure, r4Choices[c].name, "at most one of %s may be present", strings.Join(names, ", "))
		}
	}
}

// hasElement reports whether o has the element name, by value or by its
// _name extension object.
func hasElement(o *Value, name string) bool {
	for i := range o.members {
		n := o.members[i].Name
		if n == name || len(n) == len(name)+1 && n[0] == '_' && n[1:] == name {
			return true
		}
	}
	return false
}

// unknown reports a member of the object at path that is not an element of t.
func (v *validator) unknown(path []byte, t typeID, name string) {
	switch {
	case name == "resourceType":
		v.addChild(path, IssueStructure, name, "'resourceType' is allowed only at the top of a resource")
	case len(name) > 1 && name[0] == '_' && t.element(name[1:]) != nil:
		v.addChild(path, IssueStructure, name, "unknown element '%s': only primitive elements other than id have a '_' sibling", name)
	default:
		v.addChild(path, IssueStructure, name, "unknown element '%s'", name)
	}
}

// member validates the member m of o, an element e of type parent, at path.
func (v *validator) member(path []byte, o *Value, m *Member, e *elementDef, parent typeID) {
	val := &m.Value
	if e.flags&fArray == 0 {
		if val.kind == JSONArray {
			v.add(path, IssueStructure, "expected %s, found an array", expectedPhrase(e.typ))
			return
		}
		v.value(path, val, e, parent)
		return
	}
	switch {
	case val.kind != JSONArray:
		v.add(path, IssueStructure, "expected an array, found %s", kindPhrase(val.kind))
		return
	case len(val.items) == 0:
		v.add(path, IssueStructure, "empty arrays are not allowed: leave the element out")
		return
	case e.name == "contained" && v.contained > 0:
		v.add(path, IssueInvariant, "a contained resource must not contain resources (dom-2)")
		return
	}
	for j := range val.items {
		if v.stopped {
			return
		}
		p := appendIndex(path, j)
		it := &val.items[j]
		if it.kind == JSONNull {
			switch {
			case !e.typ.isPrimitive():
				v.add(p, IssueStructure, "null is not allowed: leave the item out")
			case !extensionPairs(o, e.name, j, len(val.items)):
				v.add(p, IssueStructure, "null is allowed here only where '_%s', an array of the same length, has an object in its place", e.name)
			}
			continue
		}
		v.value(p, it, e, parent)
	}
}

// extensionPairs reports whether o's _name array has n items and a
// non-null item j, to stand for a null item j of the name array.
func extensionPairs(o *Value, name string, j, n int) bool {
	for i := range o.members {
		m := &o.members[i]
		if len(m.Name) == len(name)+1 && m.Name[0] == '_' && m.Name[1:] == name {
			return m.Value.kind == JSONArray && len(m.Value.items) == n && m.Value.items[j].kind == JSONObject
		}
	}
	return false
}

// value validates one value of element e (an array item or a single value).
func (v *validator) value(path []byte, val *Value, e *elementDef, parent typeID) {
	switch t := e.typ; {
	case t == tResource:
		if e.name != "contained" {
			v.resource(path, val, false)
			return
		}
		v.contained++
		v.resource(path, val, false)
		v.contained--
		if val.kind == JSONObject && val.Ptr("resourceType") != nil && !hasElement(val, "id") {
			v.addChild(path, IssueRequired, "id", "missing required element 'id': a contained resource must have an id for references to point at")
		}
	case t.isPrimitive():
		v.primitive(path, val, e, parent)
	case val.kind != JSONObject:
		v.add(path, IssueStructure, "expected an object, found %s", kindPhrase(val.kind))
	default:
		v.object(path, val, t, 0)
	}
}

// primitiveExtension validates m, the _name sibling of primitive element e
// in o: an object (id, extension), or for a repeating element an array of
// objects or nulls pairing item by item with the values.
func (v *validator) primitiveExtension(path []byte, o *Value, m *Member, e *elementDef) {
	prim := o.Ptr(e.name)
	val := &m.Value
	if e.flags&fArray == 0 {
		if val.kind != JSONObject {
			v.add(path, IssueStructure, "expected '%s' to be an object, found %s", m.Name, kindPhrase(val.kind))
			return
		}
		mode := 0
		if prim != nil && prim.kind != JSONNull {
			mode = withValue
		}
		v.object(path, val, tElement, mode)
		return
	}
	switch {
	case val.kind != JSONArray:
		v.add(path, IssueStructure, "expected '%s' to be an array, found %s", m.Name, kindPhrase(val.kind))
		return
	case len(val.items) == 0:
		v.add(path, IssueStructure, "empty arrays are not allowed: leave '%s' out", m.Name)
		return
	case prim != nil && prim.kind == JSONArray && len(prim.items) != len(val.items):
		v.add(path, IssueStructure, "'%s' and '%s' must have the same number of items, found %d and %d", e.name, m.Name, len(prim.items), len(val.items))
		return
	}
	for j := range val.items {
		if v.stopped {
			return
		}
		p := appendIndex(path, j)
		it := &val.items[j]
		primArray := prim != nil && prim.kind == JSONArray
		hasValue := primArray && prim.items[j].kind != JSONNull
		switch {
		case it.kind == JSONNull:
			// A null in both arrays is reported at the value's null.
			if !primArray {
				v.add(p, IssueStructure, "null is allowed in '%s' only where '%s' has a value in its place", m.Name, e.name)
			}
		case it.kind != JSONObject:
			v.add(p, IssueStructure, "expected an object, found %s", kindPhrase(it.kind))
		default:
			mode := 0
			if hasValue {
				mode = withValue
			}
			v.object(p, it, tElement, mode)
		}
	}
}

// primitive validates a primitive value of element e of type parent.
func (v *validator) primitive(path []byte, val *Value, e *elementDef, parent typeID) {
	t := e.typ
	switch t {
	case tBoolean:
		if val.kind != JSONBool {
			v.add(path, IssueStructure, "expected a boolean (true or false), found %s", kindPhrase(val.kind))
		}
		return
	case tDecimal, tInteger, tPositiveInt, tUnsignedInt:
		if val.kind != JSONNumber {
			v.add(path, IssueStructure, "expected a number, found %s", kindPhrase(val.kind))
			return
		}
		if t != tDecimal {
			if reason, ok := checkInteger(val.text, t); !ok {
				v.add(path, IssueValue, "%s", invalidValue(val.text, t, reason))
			}
		}
		return
	}
	if val.kind != JSONString {
		v.add(path, IssueStructure, "expected a string, found %s", kindPhrase(val.kind))
		return
	}
	s := val.text
	if s == "" {
		v.add(path, IssueValue, "empty strings are not allowed: leave the element out")
		return
	}
	if reason, ok := checkPrimitive(s, t); !ok {
		if t == tXhtml {
			v.add(path, IssueValue, "the narrative must be XHTML starting with '<div', found '%s'", quoteValue(s))
			return
		}
		v.add(path, IssueValue, "%s", invalidValue(s, t, reason))
		return
	}
	if e.enum != 0 {
		codes := r4Enums[e.enum]
		for _, c := range codes {
			if c == s {
				return
			}
		}
		where := r4Types[parent].path + "." + e.name
		if len(codes) > 30 {
			v.add(path, IssueValue, "'%s' is not one of the %d codes allowed for %s", quoteValue(s), len(codes), where)
			return
		}
		v.add(path, IssueValue, "'%s' is not one of the codes allowed for %s: %s", quoteValue(s), where, strings.Join(codes, " | "))
	}
}

// extension checks ext-1: an Extension has a value[x] or nested extensions,
// not both.
func (v *validator) extension(path []byte, o *Value) {
	hasValue, hasExtensions := false, false
	for i := range o.members {
		name := o.members[i].Name
		switch {
		case name == "extension":
			hasExtensions = true
		case strings.HasPrefix(name, "value") || strings.HasPrefix(name, "_value"):
			hasValue = true
		}
	}
	switch {
	case hasValue && hasExtensions:
		v.add(path, IssueInvariant, "an extension must have either a value[x] or nested extensions, not both (ext-1)")
	case !hasValue && !hasExtensions:
		v.add(path, IssueInvariant, "an extension must have a value[x] or nested extensions (ext-1)")
	}
}

// identifier checks the NHS number of an Identifier of system
// SystemNHSNumber. A failure is a business rule: the resource is well formed.
func (v *validator) identifier(path []byte, o *Value) {
	if o.Str("system") != SystemNHSNumber {
		return
	}
	val := o.Ptr("value")
	if val == nil || val.kind != JSONString || val.text == "" {
		return
	}
	if _, problem := checkNHSNumber(val.text); problem != "" {
		v.addAt(IssueValue, true, childPath(path, "value"),
			fmt.Sprintf("'%s' is not a valid NHS number: %s", quoteValue(val.text), problem))
	}
}

// kindPhrase names a JSON kind with its article: "an object".
func kindPhrase(k JSONKind) string {
	switch k {
	case JSONNull:
		return "null"
	case JSONBool:
		return "a boolean"
	case JSONNumber:
		return "a number"
	case JSONString:
		return "a string"
	case JSONObject:
		return "an object"
	case JSONArray:
		return "an array"
	}
	return "an unknown value"
}

// expectedPhrase names the JSON kind a value of type t must have.
func expectedPhrase(t typeID) string {
	switch {
	case t == tBoolean:
		return "a boolean (true or false)"
	case t == tDecimal || t == tInteger || t == tPositiveInt || t == tUnsignedInt:
		return "a number"
	case t.isPrimitive():
		return "a string"
	}
	return "an object"
}

// invalidValue is the diagnostics of a malformed primitive value.
func invalidValue(s string, t typeID, reason string) string {
	name := r4Types[t].name
	msg := "'" + quoteValue(s) + "' is not a valid " + name
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}

// quoteValue shortens a value quoted in diagnostics to 64 characters.
func quoteValue(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// checkPrimitive checks the text of a string-typed primitive of type t, not
// empty, against its format. reason, when not "", says what is wrong.
func checkPrimitive(s string, t typeID) (reason string, ok bool) {
	switch t {
	case tString, tMarkdown:
		return checkString(s)
	case tCode:
		return checkCode(s)
	case tId:
		if isID(s) {
			return "", true
		}
		return "an id is 1 to 64 letters, digits, '-' and '.'", false
	case tDate, tDateTime, tInstant:
		return checkDateTime(s, t)
	case tTime:
		if n := timeLength(s); n == len(s) {
			return "", true
		}
		return "", false
	case tUri, tUrl, tCanonical:
		if hasSpace(s) {
			return "it must not contain whitespace", false
		}
		return "", true
	case tOid:
		return "", isOID(s)
	case tUuid:
		return "", isUUID(s)
	case tBase64Binary:
		return "", isBase64(s)
	case tXhtml:
		return "", strings.HasPrefix(s, "<div")
	}
	return "", true
}

// maxString is the longest FHIR string, 1MB.
const maxString = 1 << 20

// checkString checks string and markdown: at most 1MB, no control
// characters but tab, carriage return and line feed.
func checkString(s string) (string, bool) {
	if len(s) > maxString {
		return "strings must not exceed 1MB", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' && c != '\r' && c != '\n' {
			return fmt.Sprintf("it contains the control character U+%04X", c), false
		}
	}
	return "", true
}

// checkCode checks a code: no leading, trailing or repeated whitespace.
func checkCode(s string) (string, bool) {
	prevSpace := true // a leading space counts as repeated
	for _, r := range s {
		space := isSpace(r)
		if space && prevSpace {
			return "a code must not have leading, trailing or repeated whitespace", false
		}
		prevSpace = space
	}
	if prevSpace {
		return "a code must not have leading, trailing or repeated whitespace", false
	}
	return "", true
}

// isSpace reports whether r is whitespace as the schema's regular
// expressions (ECMAScript \s) see it.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// hasSpace reports whether s contains whitespace.
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < utf8.RuneSelf {
			continue
		}
		if c < utf8.RuneSelf {
			if c == ' ' || c >= '\t' && c <= '\r' {
				return true
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			return true
		}
		i += n - 1
	}
	return false
}

// isID reports whether s is a FHIR id: 1 to 64 of [A-Za-z0-9-.].
func isID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// isOID reports whether s is urn:oid: and a dotted OID: [0-2](.(0|[1-9][0-9]*))+.
func isOID(s string) bool {
	s, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(s) < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.' {
		return false
	}
	for _, arc := range strings.Split(s[2:], ".") {
		if arc == "" || arc[0] == '0' && len(arc) > 1 || !allDigits(arc) {
			return false
		}
	}
	return true
}

// isUUID reports whether s is urn:uuid: and a lower-case 8-4-4-4-12 uuid.
func isUUID(s string) bool {
	s, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || !isUUIDText(s) {
		return false
	}
	return strings.ToLower(s) == s
}

// isBase64 reports whether s is standard base64 with padding, whitespace
// allowed between characters.
func isBase64(s string) bool {
	n, pad := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '=':
			pad++
		case pad > 0:
			return false // data after padding
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/':
		default:
			return false
		}
		n++
	}
	return n > 0 && n%4 == 0 && pad <= 2
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// checkInteger checks the text of a JSON number as an integer, positiveInt
// or unsignedInt: no fraction or exponent, within 32 bits, and for the last
// two not negative (and not 0 for positiveInt).
func checkInteger(text string, t typeID) (string, bool) {
	digits := strings.TrimPrefix(text, "-")
	negative := len(digits) < len(text)
	if !allDigits(digits) {
		return "it must be a whole number, without fraction or exponent", false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	switch {
	case t == tInteger && (err != nil || n < -1<<31 || n > 1<<31-1):
		return "it must be between -2147483648 and 2147483647", false
	case t == tInteger:
		return "", true
	case negative && n != 0 || t == tPositiveInt && n == 0:
		if t == tPositiveInt {
			return "it must be at least 1", false
		}
		return "it must not be negative", false
	case negative:
		return "it must not be negative", false
	case err != nil || n > 1<<31-1:
		return "it must be at most 2147483647", false
	}
	return "", true
}

// checkDateTime checks a date (YYYY, YYYY-MM, YYYY-MM-DD), a dateTime (a
// date, or a full date with a time and a time zone) or an instant (a full
// date with a time and a time zone), and that the date exists.
func checkDateTime(s string, t typeID) (string, bool) {
	// Year: 0001 to 9999.
	if len(s) < 4 || !allDigits(s[:4]) || s[:4] == "0000" {
		return "", false
	}
	if len(s) == 4 {
		return "", t != tInstant
	}
	if s[4] != '-' || len(s) < 7 || !allDigits(s[5:7]) {
		return "", false
	}
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	if month < 1 || month > 12 {
		return "", false
	}
	if len(s) == 7 {
		return "", t != tInstant
	}
	if s[7] != '-' || len(s) < 10 || !allDigits(s[8:10]) {
		return "", false
	}
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	year, _ := strconv.Atoi(s[:4])
	if day < 1 || day > 31 {
		return "", false
	}
	if day > daysIn(year, month) {
		return fmt.Sprintf("%s has no day %d", s[:7], day), false
	}
	if len(s) == 10 {
		return "", t != tInstant
	}
	if t == tDate || s[10] != 'T' {
		return "", false
	}
	rest := s[11:]
	n := timeLength(rest)
	if n == 0 {
		return "", false
	}
	if n == len(rest) {
		return "a time must have a time zone (Z or +hh:mm)", false
	}
	if !isZone(rest[n:]) {
		return "", false
	}
	return "", true
}

// timeLength returns the length of the hh:mm:ss(.fff) time that starts s, or 0.
func timeLength(s string) int {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' || !allDigits(s[0:2]) || !allDigits(s[3:5]) || !allDigits(s[6:8]) {
		return 0
	}
	h, m, sec := atoi2(s[0:2]), atoi2(s[3:5]), atoi2(s[6:8])
	if h > 23 || m > 59 || sec > 60 {
		return 0
	}
	n := 8
	if n < len(s) && s[n] == '.' {
		n++
		start := n
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == start {
			return 0
		}
	}
	return n
}

// isZone reports whether s is a time zone: Z, or +hh:mm / -hh:mm up to 14:00.
func isZone(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !allDigits(s[1:3]) || !allDigits(s[4:6]) {
		return false
	}
	h, m := atoi2(s[1:3]), atoi2(s[4:6])
	return h < 14 && m < 60 || h == 14 && m == 0
}

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
