package mappings

import "errors"

const snomedSystem = "http://snomed.info/sct"

// Verhoeff's dihedral-group tables.
var (
	verhoeffD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	// verhoeffP[i] is the permutation (0 1 5 8 9 4 2 7)(3 6) applied i times.
	verhoeffP = func() (p [8][10]uint8) {
		p[0] = [10]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		p[1] = [10]uint8{1, 5, 7, 6, 2, 8, 3, 0, 9, 4}
		for i := 2; i < 8; i++ {
			for d := range 10 {
				p[i][d] = p[1][p[i-1][d]]
			}
		}
		return p
	}()
)

// verhoeffValid reports whether the digit string s ends in a valid Verhoeff
// check digit.
func verhoeffValid(s string) bool {
	var c uint8
	for i := 0; i < len(s); i++ {
		d := s[len(s)-1-i] - '0'
		c = verhoeffD[c][verhoeffP[i%8][d]]
	}
	return c == 0
}

// CheckSNOMEDID returns why s is not a well-formed SNOMED CT concept id, or
// nil: 6 to 18 digits, no leading zero, a concept partition (00 or 10), and
// a valid Verhoeff check digit. It does not say the concept exists.
func CheckSNOMEDID(s string) error {
	if len(s) < 6 || len(s) > 18 {
		return errors.New("a SNOMED CT id has 6 to 18 digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return errors.New("a SNOMED CT id has only digits")
		}
	}
	if s[0] == '0' {
		return errors.New("a SNOMED CT id does not start with 0")
	}
	if p := s[len(s)-3 : len(s)-1]; p != "00" && p != "10" {
		return errors.New("not a concept id: its partition is " + p + ", not 00 or 10")
	}
	if !verhoeffValid(s) {
		return errors.New("the Verhoeff check digit does not match (a mistyped or corrupted id)")
	}
	return nil
}
