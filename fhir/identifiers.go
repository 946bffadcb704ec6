package fhir

// Identifier and code systems CareBridge recognises.
const (
	// SystemNHSNumber is the identifier system of NHS numbers (England and Wales).
	SystemNHSNumber = "https://fhir.nhs.uk/Id/nhs-number"
	// SystemODSCode is the identifier system of ODS organisation codes
	// (GP practices, trusts, PCNs).
	SystemODSCode = "https://fhir.nhs.uk/Id/ods-organization-code"
	// SystemSNOMED is the code system of SNOMED CT.
	SystemSNOMED = "http://snomed.info/sct"
	// SystemLOINC is the code system of LOINC.
	SystemLOINC = "http://loinc.org"
)

// NormalizeNHSNumber returns s without the spaces and dashes people write
// inside NHS numbers ("943 476 5919" -> "9434765919"), and whether the result
// is a valid NHS number: ten digits whose last is the modulus 11 check digit
// of the first nine.
func NormalizeNHSNumber(s string) (string, bool) {
	n, problem := checkNHSNumber(s)
	return n, problem == ""
}

// checkNHSNumber normalises s like NormalizeNHSNumber and returns why it is
// not a valid NHS number, or "" when it is.
func checkNHSNumber(s string) (normalized, problem string) {
	var digits [10]byte
	n := 0
	clean := true // s has no separators: normalized can be s itself
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			clean = false
		case c >= '0' && c <= '9':
			if n < len(digits) {
				digits[n] = c
			}
			n++
		default:
			return stripSeparators(s), "it may contain only digits, spaces and dashes"
		}
	}
	normalized = s
	if !clean {
		normalized = stripSeparators(s)
	}
	if n != 10 {
		return normalized, "it must have 10 digits"
	}
	sum := 0
	for i := range 9 {
		sum += int(digits[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return normalized, "no check digit is possible for its first nine digits"
	}
	if int(digits[9]-'0') != check {
		return normalized, "the check digit does not match"
	}
	return normalized, ""
}

func stripSeparators(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '-' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
