package synth

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/carebridge/carebridge/fhir"
)

func TestTheNHSNumberRangeHoldsMaxPeopleDistinctValidNumbers(t *testing.T) {
	for _, seed := range []uint64{1, 2, 0xdeadbeef} {
		numbers := newNHSNumbers(seed)
		seen := make(map[string]bool, MaxPeople)
		for {
			n, ok := numbers.next()
			if !ok {
				break
			}
			if _, valid := fhir.NormalizeNHSNumber(n); !valid || n < "9990010000" || n > "9999999999" {
				t.Fatalf("seed %d: %s is not a valid number of the synthetic range", seed, n)
			}
			if seen[n] {
				t.Fatalf("seed %d: %s is handed out twice", seed, n)
			}
			seen[n] = true
		}
		if len(seen) < MaxPeople {
			t.Errorf("seed %d: %d numbers, fewer than MaxPeople (%d)", seed, len(seen), MaxPeople)
		}
	}
}

func TestStringsAreEscaped(t *testing.T) {
	for _, s := range []string{`plain`, `a "quoted" \ back`, "tab\tnew\nline\x01", "Zoë"} {
		var got string
		if err := json.Unmarshal(appendQuoted(nil, s), &got); err != nil || got != s {
			t.Errorf("appendQuoted(%q) reads back as %q, %v", s, got, err)
		}
	}
}

func TestTimesAreWrittenInUKTime(t *testing.T) {
	for _, tc := range []struct{ date, want string }{
		{"2026-03-28", `"2026-03-28T10:00:00+00:00"`},
		{"2026-03-29", `"2026-03-29T10:00:00+01:00"`}, // the last Sunday of March
		{"2026-10-24", `"2026-10-24T10:00:00+01:00"`},
		{"2026-10-25", `"2026-10-25T10:00:00+00:00"`}, // the last Sunday of October
		{"2024-02-29", `"2024-02-29T10:00:00+00:00"`},
	} {
		d, err := time.Parse(time.DateOnly, tc.date)
		if err != nil {
			t.Fatal(err)
		}
		var w jsonWriter
		w.object("")
		dateTimeMember(&w, "t", dayOf(d), 600)
		w.endObject()
		if got, want := string(w.b), `{"t":`+tc.want+`}`; got != want {
			t.Errorf("%s: wrote %s, want %s", tc.date, got, want)
		}
	}
}
