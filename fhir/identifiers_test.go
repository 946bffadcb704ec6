package fhir

import "testing"

func TestNormalizeNHSNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"a valid number", "9000000009", "9000000009", true},
		{"another valid number", "9476719931", "9476719931", true},
		{"a valid number with spaces", "943 476 5919", "9434765919", true},
		{"a valid number with dashes", "943-476-5919", "9434765919", true},
		{"a check digit of 11 becomes 0", "9434765080", "9434765080", true},
		{"a wrong check digit", "9000000001", "9000000001", false},
		{"two digits swapped", "9434765991", "9434765991", false},
		{"first nine digits that give a check digit of 10", "1000000010", "1000000010", false},
		{"nine digits", "900000000", "900000000", false},
		{"eleven digits", "90000000090", "90000000090", false},
		{"a letter", "90000000A9", "90000000A9", false},
		{"dots as separators", "943.476.5919", "943.476.5919", false},
		{"empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeNHSNumber(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeNHSNumber(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNormalizeNHSNumberDoesNotAllocateForAPlainNumber(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { NormalizeNHSNumber("9434765919") })
	if allocs != 0 {
		t.Errorf("NormalizeNHSNumber allocates %v times", allocs)
	}
}
