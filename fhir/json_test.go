package fhir

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseJSONThenAppendJSONKeepsCompactInputByteForByte(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"member order is the sender's, not sorted", `{"resourceType":"Patient","name":[{"given":["Ann"],"family":"Jones"}],"id":"p1","active":true}`},
		{"number text survives: trailing zeros, exponents, negative zero and big integers", `{"a":1.50,"b":1e3,"c":-0,"d":12345678901234567890123,"e":0.1E-2,"f":-7}`},
		{"escapes that JSON requires survive", `{"text":"line one\nline \"two\"\\ and a tab\t","ctl":"\u0001"}`},
		{"non-ASCII text survives", `{"family":"Ó Súilleabháin","given":["Zoë","李"]}`},
		{"empty containers, null and booleans survive", `{"a":{},"b":[],"c":null,"d":false,"e":[null,true]}`},
		{"a top-level array", `[1,"two",{"three":3}]`},
		{"a top-level string", `"just a string"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if got := string(v.AppendJSON(nil)); got != tc.in {
				t.Errorf("AppendJSON(ParseJSON(in)):\n got %s\nwant %s", got, tc.in)
			}
			b, err := v.MarshalJSON()
			if err != nil || string(b) != tc.in {
				t.Errorf("MarshalJSON = %s, %v; want %s", b, err, tc.in)
			}
		})
	}
}

func TestParseJSONRefusesMalformedInputWithALineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want is the start of the diagnostics, with its line and column.
		want string
	}{
		{"a duplicate member name", "{\"a\":1,\n\"a\":2}", "the body is not valid JSON (line 2, column 1): duplicate object member name"},
		{"a duplicate member name in a nested object", "{\"name\":[{\n  \"family\":\"A\",\n  \"family\":\"B\"}]}", "the body is not valid JSON (line 3, column 3): duplicate object member name"},
		{"invalid UTF-8 in a string", "{\"a\":\"\xff\"}", "the body is not valid JSON (line 1, column 7): invalid UTF-8"},
		{"trailing data after the value", "{}\n x", "the body is not valid JSON (line 2, column 2): invalid character 'x'"},
		{"a second value after the first", `{} {}`, "the body is not valid JSON (line 1, column 5): unexpected data after the top-level value"},
		{"a truncated body", `{"a":[1,2`, "the body is not valid JSON (line 1, column 10): unexpected EOF"},
		{"a stray comma", "{\n  \"a\": [1,\n  2,,]}", "the body is not valid JSON (line 3, column 5): invalid character ','"},
		{"an empty body", ``, "the body is not valid JSON (line 1, column 1): unexpected EOF"},
		{"nesting deeper than 100 levels", strings.Repeat("[", 102) + strings.Repeat("]", 102), "the body is not valid JSON (line 1, column 102): nesting deeper than 100 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.in))
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("ParseJSON error = %v, want an *Error", err)
			}
			if e.Kind != Invalid {
				t.Errorf("Kind = %v, want invalid", e.Kind)
			}
			if len(e.Issues) != 1 {
				t.Fatalf("issues = %+v, want one", e.Issues)
			}
			if is := e.Issues[0]; is.Code != IssueStructure || !strings.HasPrefix(is.Diagnostics, tc.want) {
				t.Errorf("issue = %s %q, want structure %q...", is.Code, is.Diagnostics, tc.want)
			}
		})
	}
}

func TestParseJSONAcceptsNestingOf100Levels(t *testing.T) {
	in := strings.Repeat("[", 101) + strings.Repeat("]", 101)
	if _, err := ParseJSON([]byte(in)); err != nil {
		t.Errorf("ParseJSON of 101 nested arrays: %v", err)
	}
}

func TestValueAccessors(t *testing.T) {
	v, err := ParseJSON([]byte(`{"s":"text","n":12.0,"b":true,"o":{"x":1},"a":[1,2,3],"z":null}`))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Kind      JSONKind
		Text      string
		Len       int
		Bool      bool
		Found     bool
		KindIsStr string
	}
	describe := func(name string) got {
		m, ok := v.Get(name)
		return got{m.Kind(), m.Text(), m.Len(), m.Bool(), ok, m.Kind().String()}
	}
	tests := []struct {
		name string
		want got
	}{
		{"s", got{JSONString, "text", 0, false, true, "string"}},
		{"n", got{JSONNumber, "12.0", 0, false, true, "number"}},
		{"b", got{JSONBool, "true", 0, true, true, "boolean"}},
		{"o", got{JSONObject, "", 1, false, true, "object"}},
		{"a", got{JSONArray, "", 3, false, true, "array"}},
		{"z", got{JSONNull, "", 0, false, true, "null"}},
		{"absent", got{JSONNull, "", 0, false, false, "null"}},
	}
	for _, tc := range tests {
		t.Run("member "+tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, describe(tc.name)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("Str returns strings only", func(t *testing.T) {
		if got := v.Str("s"); got != "text" {
			t.Errorf(`Str("s") = %q`, got)
		}
		if got := v.Str("n"); got != "" {
			t.Errorf(`Str("n") = %q, want ""`, got)
		}
	})
}

// compact returns the JSON of v as a string.
func compact(v Value) string { return string(v.AppendJSON(nil)) }

func TestValueEditing(t *testing.T) {
	parse := func(t *testing.T, s string) Value {
		t.Helper()
		v, err := ParseJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const patient = `{"resourceType":"Patient","active":true,"meta":{"versionId":"1"},"name":[{"family":"Jones"}]}`
	tests := []struct {
		name string
		edit func(v *Value)
		want string
	}{
		{"Set replaces a member where it is", func(v *Value) { v.Set("active", Bool(false)) },
			`{"resourceType":"Patient","active":false,"meta":{"versionId":"1"},"name":[{"family":"Jones"}]}`},
		{"Set appends a new member at the end", func(v *Value) { v.Set("gender", String("female")) },
			`{"resourceType":"Patient","active":true,"meta":{"versionId":"1"},"name":[{"family":"Jones"}],"gender":"female"}`},
		{"Delete removes a member and keeps the order of the rest", func(v *Value) { v.Delete("active") },
			`{"resourceType":"Patient","meta":{"versionId":"1"},"name":[{"family":"Jones"}]}`},
		{"Delete of an absent member changes nothing", func(v *Value) { v.Delete("gender") }, patient},
		{"SetFirst puts members first, replacing those of the same name", func(v *Value) {
			v.SetFirst(Member{"id", String("p1")}, Member{"meta", Object(Member{"versionId", String("2")})})
		}, `{"id":"p1","meta":{"versionId":"2"},"resourceType":"Patient","active":true,"name":[{"family":"Jones"}]}`},
		{"Ptr changes a nested value in place", func(v *Value) { v.Ptr("name").ItemPtr(0).Set("family", String("Smith")) },
			`{"resourceType":"Patient","active":true,"meta":{"versionId":"1"},"name":[{"family":"Smith"}]}`},
		{"values built in Go encode like parsed ones", func(v *Value) {
			v.Set("multipleBirthInteger", Int(2))
			v.Set("x", Array(Number("1.10"), Value{}))
		}, `{"resourceType":"Patient","active":true,"meta":{"versionId":"1"},"name":[{"family":"Jones"}],"multipleBirthInteger":2,"x":[1.10,null]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := parse(t, patient)
			tc.edit(&v)
			if got := compact(v); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}

	t.Run("Ptr of an absent member is nil", func(t *testing.T) {
		v := parse(t, patient)
		if p := v.Ptr("gender"); p != nil {
			t.Errorf("Ptr(gender) = %v, want nil", p)
		}
	})

	t.Run("Clone is deep: changing the clone leaves the original alone", func(t *testing.T) {
		v := parse(t, patient)
		c := v.Clone()
		c.Ptr("name").ItemPtr(0).Set("family", String("Smith"))
		c.Ptr("meta").Delete("versionId")
		c.Set("active", Bool(false))
		if got := compact(v); got != patient {
			t.Errorf("original after editing the clone:\n got %s\nwant %s", got, patient)
		}
		if got, want := compact(c), `{"resourceType":"Patient","active":false,"meta":{},"name":[{"family":"Smith"}]}`; got != want {
			t.Errorf("clone:\n got %s\nwant %s", got, want)
		}
	})

	t.Run("Delete does not disturb a value sharing the original's members", func(t *testing.T) {
		v := parse(t, patient)
		shared := v // copies share the members array
		v.Delete("resourceType")
		if got := compact(shared); got != patient {
			t.Errorf("the shared copy changed:\n got %s\nwant %s", got, patient)
		}
	})
}

func TestIndentPrettyPrintsAndLeavesInvalidInputAlone(t *testing.T) {
	got := string(Indent([]byte(`{"a":[1,{"b":null}]}`)))
	want := "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}"
	if got != want {
		t.Errorf("Indent:\n got %q\nwant %q", got, want)
	}
	if got := string(Indent([]byte(`{"a":`))); got != `{"a":` {
		t.Errorf("Indent of invalid JSON = %q, want it unchanged", got)
	}
}

var lineColumn = regexp.MustCompile(`\(line \d+, column \d+\)`)

func TestDecodeResourceReportsJSONSyntaxErrorsWithALineAndColumn(t *testing.T) {
	_, err := DecodeResource([]byte("{\"resourceType\":\"Patient\",\n\"active\":tru}"))
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Kind != Invalid || len(e.Issues) != 1 || !lineColumn.MatchString(e.Issues[0].Diagnostics) {
		t.Fatalf("DecodeResource error = %v, want one Invalid issue with a line and column", err)
	}
}
