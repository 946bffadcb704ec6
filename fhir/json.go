package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// JSONKind is the kind of a JSON value.
type JSONKind uint8

// JSON value kinds.
const (
	JSONNull JSONKind = iota
	JSONBool
	JSONNumber
	JSONString
	JSONObject
	JSONArray
)

func (k JSONKind) String() string {
	switch k {
	case JSONNull:
		return "null"
	case JSONBool:
		return "boolean"
	case JSONNumber:
		return "number"
	case JSONString:
		return "string"
	case JSONObject:
		return "object"
	case JSONArray:
		return "array"
	}
	return "unknown"
}

// Value is a JSON value as the sender wrote it: objects keep their member order
// and numbers keep their exact text, so a resource can be re-encoded without
// changing what the sender said. The zero Value is JSON null.
type Value struct {
	kind    JSONKind
	text    string   // string value, number text, or "true"/"false"
	members []Member // object members, in order
	items   []Value  // array items
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Name  string
	Value Value
}

// String returns a JSON string value.
func String(s string) Value { return Value{kind: JSONString, text: s} }

// Number returns a JSON number value with the given text, which must be a
// valid JSON number.
func Number(text string) Value { return Value{kind: JSONNumber, text: text} }

// Int returns a JSON number value for n.
func Int(n int64) Value { return Value{kind: JSONNumber, text: strconv.FormatInt(n, 10)} }

// Bool returns a JSON boolean value.
func Bool(b bool) Value {
	if b {
		return Value{kind: JSONBool, text: "true"}
	}
	return Value{kind: JSONBool, text: "false"}
}

// Object returns a JSON object with the given members, in order.
func Object(members ...Member) Value { return Value{kind: JSONObject, members: members} }

// Array returns a JSON array with the given items.
func Array(items ...Value) Value { return Value{kind: JSONArray, items: items} }

// Kind returns the value's JSON kind.
func (v Value) Kind() JSONKind { return v.kind }

// Text returns a string's value, a number's text, or "true"/"false"; "" otherwise.
func (v Value) Text() string { return v.text }

// Bool reports whether v is the JSON literal true.
func (v Value) Bool() bool { return v.kind == JSONBool && v.text == "true" }

// Members returns an object's members in order; nil for other kinds.
func (v Value) Members() []Member { return v.members }

// Items returns an array's items; nil for other kinds.
func (v Value) Items() []Value { return v.items }

// Len returns the number of members or items.
func (v Value) Len() int {
	if v.kind == JSONObject {
		return len(v.members)
	}
	return len(v.items)
}

// Get returns the member called name of an object.
func (v Value) Get(name string) (Value, bool) {
	for i := range v.members {
		if v.members[i].Name == name {
			return v.members[i].Value, true
		}
	}
	return Value{}, false
}

// Str returns the string member called name, or "" when it is absent or not a string.
func (v Value) Str(name string) string {
	m, ok := v.Get(name)
	if !ok || m.kind != JSONString {
		return ""
	}
	return m.text
}

// Ptr returns a pointer to the member called name, so that it can be changed
// in place; nil when absent.
func (v *Value) Ptr(name string) *Value {
	for i := range v.members {
		if v.members[i].Name == name {
			return &v.members[i].Value
		}
	}
	return nil
}

// ItemPtr returns a pointer to the i-th item of an array.
func (v *Value) ItemPtr(i int) *Value { return &v.items[i] }

// Set sets the member called name, keeping its position when it exists and
// appending it otherwise.
func (v *Value) Set(name string, val Value) {
	if p := v.Ptr(name); p != nil {
		*p = val
		return
	}
	v.members = append(v.members, Member{Name: name, Value: val})
}

// Delete removes the member called name, if present.
func (v *Value) Delete(name string) {
	for i := range v.members {
		if v.members[i].Name == name {
			v.members = append(v.members[:i:i], v.members[i+1:]...)
			return
		}
	}
}

// SetFirst places the given members first, in the given order, replacing any
// existing members of the same names and keeping the rest in their order.
// It is how id and meta are put at the top of a stored resource.
func (v *Value) SetFirst(first ...Member) {
	out := make([]Member, 0, len(v.members)+len(first))
	out = append(out, first...)
	for _, m := range v.members {
		dup := false
		for _, f := range first {
			if f.Name == m.Name {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, m)
		}
	}
	v.members = out
}

// Clone returns a deep copy of v.
func (v Value) Clone() Value {
	c := v
	if v.members != nil {
		c.members = make([]Member, len(v.members))
		for i, m := range v.members {
			c.members[i] = Member{Name: m.Name, Value: m.Value.Clone()}
		}
	}
	if v.items != nil {
		c.items = make([]Value, len(v.items))
		for i, it := range v.items {
			c.items[i] = it.Clone()
		}
	}
	return c
}

// maxDepth bounds nesting so that a hostile body cannot exhaust the stack.
const maxDepth = 100

// ParseJSON parses one JSON value. It is strict: duplicate member names,
// invalid UTF-8, trailing data and nesting deeper than 100 levels are refused.
// Errors are *Error of kind Invalid whose diagnostics give the line and column.
func ParseJSON(data []byte) (Value, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	v, err := parseValue(dec, 0)
	if err != nil {
		return Value{}, syntaxError(data, dec, err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the top-level value")
		}
		return Value{}, syntaxError(data, dec, err)
	}
	return v, nil
}

func parseValue(dec *jsontext.Decoder, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, fmt.Errorf("nesting deeper than %d levels", maxDepth)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Value{}, err
	}
	switch tok.Kind() {
	case 'n':
		return Value{}, nil
	case 't':
		return Value{kind: JSONBool, text: "true"}, nil
	case 'f':
		return Value{kind: JSONBool, text: "false"}, nil
	case '"':
		return Value{kind: JSONString, text: tok.String()}, nil
	case '0':
		return Value{kind: JSONNumber, text: tok.String()}, nil
	case '{':
		v := Value{kind: JSONObject, members: []Member{}}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return Value{}, err
			}
			n := name.String()
			val, err := parseValue(dec, depth+1)
			if err != nil {
				return Value{}, err
			}
			v.members = append(v.members, Member{Name: n, Value: val})
		}
		if _, err := dec.ReadToken(); err != nil {
			return Value{}, err
		}
		return v, nil
	case '[':
		v := Value{kind: JSONArray, items: []Value{}}
		for dec.PeekKind() != ']' {
			item, err := parseValue(dec, depth+1)
			if err != nil {
				return Value{}, err
			}
			v.items = append(v.items, item)
		}
		if _, err := dec.ReadToken(); err != nil {
			return Value{}, err
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected token %v", tok.Kind())
}

// syntaxError turns a decoder error into an Invalid *Error with a line and
// column computed from the byte offset.
func syntaxError(data []byte, dec *jsontext.Decoder, err error) *Error {
	offset := dec.InputOffset()
	msg := err.Error()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		offset = se.ByteOffset
		if se.Err != nil {
			msg = se.Err.Error()
		}
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line := 1 + bytes.Count(data[:offset], []byte{'\n'})
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return &Error{Kind: Invalid, Err: err, Issues: []Issue{{
		Severity:    SeverityError,
		Code:        IssueStructure,
		Diagnostics: fmt.Sprintf("the body is not valid JSON (line %d, column %d): %s", line, col, msg),
	}}}
}

// AppendJSON appends the compact JSON encoding of v to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case JSONNull:
		return append(dst, "null"...)
	case JSONBool, JSONNumber:
		return append(dst, v.text...)
	case JSONString:
		out, err := jsontext.AppendQuote(dst, v.text)
		if err != nil { // invalid UTF-8 cannot come from ParseJSON; be safe anyway
			return strconv.AppendQuote(dst, v.text)
		}
		return out
	case JSONObject:
		dst = append(dst, '{')
		for i, m := range v.members {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst, _ = jsontext.AppendQuote(dst, m.Name)
			dst = append(dst, ':')
			dst = m.Value.AppendJSON(dst)
		}
		return append(dst, '}')
	case JSONArray:
		dst = append(dst, '[')
		for i, it := range v.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = it.AppendJSON(dst)
		}
		return append(dst, ']')
	}
	return dst
}

// MarshalJSON returns the compact JSON encoding of v.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// Indent returns JSON with two-space indentation, for _pretty=true. Input
// that is not valid JSON is returned unchanged.
func Indent(compact []byte) []byte {
	v := jsontext.Value(bytes.Clone(compact))
	if err := v.Indent(jsontext.WithIndent("  ")); err != nil {
		return compact
	}
	return v
}
