package synth

import (
	"math/rand/v2"
	"strconv"
)

// NHS numbers are drawn from 999 000 0000 to 999 999 9999, a range NHS
// England keeps for test data and never issues to a person
// (https://docs.rs/crate/nhs-number/latest/source/docs/ranges/README.md:
// "Reserved for test and demo data only ... guaranteed to never be issued to
// a real patient"). The first thousand numbers of it (999 000 0000 to
// 999 000 9999, where the demo seed and hand-written test fixtures live) are
// left out, so a synthetic person never merges with one of them.
const (
	nhsFirstBody = 999_001_000 // the first nine digits of the first number used
	nhsBodies    = 999_000     // bodies 999 001 000 to 999 999 999
)

// MaxPeople is the largest population Generate makes: the synthetic NHS
// number range holds about 908,000 valid numbers (a nine-digit body whose
// modulus 11 check digit would be 10 is no NHS number).
const MaxPeople = 900_000

// nhsNumbers hands out distinct valid NHS numbers in a seeded order: the
// bodies of the range taken through the permutation k -> (a*k + b) mod
// nhsBodies, skipping bodies that have no check digit.
type nhsNumbers struct {
	a, b, k uint64
}

func newNHSNumbers(seed uint64) *nhsNumbers {
	r := rand.New(rand.NewPCG(seed, 0x6e6873)) // "nhs"
	a := 1 + r.Uint64N(nhsBodies-1)
	for gcd(a, nhsBodies) != 1 {
		a++
	}
	return &nhsNumbers{a: a, b: r.Uint64N(nhsBodies)}
}

// next returns the next NHS number, or false when the range is used up.
func (n *nhsNumbers) next() (string, bool) {
	for n.k < nhsBodies {
		body := nhsFirstBody + (n.a*n.k+n.b)%nhsBodies
		n.k++
		if check, ok := nhsCheckDigit(body); ok {
			return strconv.FormatUint(body*10+check, 10), true
		}
	}
	return "", false
}

// nhsCheckDigit is the modulus 11 check digit of a nine-digit NHS number
// body (NHS Data Dictionary): weights 10 down to 2, 11 minus the remainder,
// 11 becoming 0; 10 means the body cannot be an NHS number.
func nhsCheckDigit(body uint64) (uint64, bool) {
	var sum uint64
	for w := uint64(2); w <= 10; w++ {
		sum += (body % 10) * w
		body /= 10
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return check, true
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
