package fhir

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database
)

// london returns Europe/London, the zone of English care records.
func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// utcMicro returns the Unix microseconds of a UTC time written as RFC 3339.
func utcMicro(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMicro()
}

func TestNormalizeSearchString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower-case ASCII is returned unchanged", "chalmers", "chalmers"},
		{"upper case is lowered", "CHALMERS", "chalmers"},
		{"accents are removed", "Zoë Brontë-Chloé", "zoe bronte-chloe"},
		{"letters without a decomposition stay", "Ølsen Straße", "ølsen straße"},
		{"precomposed and decomposed accents are the same", "Jose\u0301", "jose"},
		{"white space is trimmed and collapsed", "  Mary \t\n Jane  ", "mary jane"},
		{"a non-breaking space is white space", "Mary\u00a0Jane", "mary jane"},
		{"punctuation is kept", "O'Brien, Smith-Jones", "o'brien, smith-jones"},
		{"a postcode keeps its inner space", "LS1 4HR", "ls1 4hr"},
		{"only white space is empty", " \t ", ""},
		{"empty is empty", "", ""},
		{"Welsh", "Siân Ŵyn", "sian wyn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeSearchString(tc.in); got != tc.want {
				t.Errorf("NormalizeSearchString(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := NormalizeSearchString(tc.want); got != tc.want {
				t.Errorf("NormalizeSearchString is not idempotent: %q gives %q", tc.want, got)
			}
		})
	}
}

func TestNormalizeSearchStringDoesNotAllocateForNormalASCII(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = NormalizeSearchString("ls1 4hr") })
	if allocs != 0 {
		t.Errorf("NormalizeSearchString of a normal string made %v allocations, want 0", allocs)
	}
}

func TestSearchNHSNumber(t *testing.T) {
	tests := []struct {
		name, system, in, want string
	}{
		{"an NHS number written with spaces loses them", SystemNHSNumber, "943 476 5919", "9434765919"},
		{"an NHS number written with dashes loses them", SystemNHSNumber, "943-476-5919", "9434765919"},
		{"an NHS number written plainly is unchanged", SystemNHSNumber, "9434765919", "9434765919"},
		{"another system's value keeps its spaces", "https://trust.example/mrn", "RX1 234", "RX1 234"},
		{"a value without a system keeps its spaces", "", "943 476 5919", "943 476 5919"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := searchIdentifierValue(tc.system, tc.in); got != tc.want {
				t.Errorf("searchIdentifierValue(%q, %q) = %q, want %q", tc.system, tc.in, got, tc.want)
			}
		})
	}
}

func TestDateIntervals(t *testing.T) {
	ldn := london(t)
	tests := []struct {
		name     string
		in       string
		loc      *time.Location
		low, end string // the interval, as UTC instants
	}{
		{"a year is the whole year in the local zone", "2025", ldn, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"a summer month starts at BST midnight", "2025-06", ldn, "2025-05-31T23:00:00Z", "2025-06-30T23:00:00Z"},
		{"February of a leap year has 29 days", "2024-02", time.UTC, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"a winter day is midnight to midnight GMT", "2025-01-15", ldn, "2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z"},
		{"a summer day is midnight to midnight BST", "2025-07-01", ldn, "2025-06-30T23:00:00Z", "2025-07-01T23:00:00Z"},
		{"the day the clocks go forward is 23 hours", "2025-03-30", ldn, "2025-03-30T00:00:00Z", "2025-03-30T23:00:00Z"},
		{"the day the clocks go back is 25 hours", "2025-10-26", ldn, "2025-10-25T23:00:00Z", "2025-10-27T00:00:00Z"},
		{"a day in UTC", "2025-07-01", time.UTC, "2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z"},
		{"a summer time without a zone is BST", "2025-07-01T10:00:00", ldn, "2025-07-01T09:00:00Z", "2025-07-01T09:00:01Z"},
		{"a winter time without a zone is GMT", "2025-01-15T10:00:00", ldn, "2025-01-15T10:00:00Z", "2025-01-15T10:00:01Z"},
		{"a time with an offset is exact whatever the zone", "2025-07-01T10:00:00+01:00", time.UTC, "2025-07-01T09:00:00Z", "2025-07-01T09:00:01Z"},
		{"a negative offset", "2025-07-01T10:00:00-05:30", ldn, "2025-07-01T15:30:00Z", "2025-07-01T15:30:01Z"},
		{"Z is UTC", "2025-07-01T10:00:00Z", ldn, "2025-07-01T10:00:00Z", "2025-07-01T10:00:01Z"},
		{"a minute is sixty seconds", "2025-07-01T10:00Z", ldn, "2025-07-01T10:00:00Z", "2025-07-01T10:01:00Z"},
		{"a tenth of a second", "2025-07-01T10:00:00.5Z", ldn, "2025-07-01T10:00:00.5Z", "2025-07-01T10:00:00.6Z"},
		{"milliseconds", "2025-07-01T10:00:00.123Z", ldn, "2025-07-01T10:00:00.123Z", "2025-07-01T10:00:00.124Z"},
		{"beyond microseconds is cut to the microsecond", "2025-07-01T10:00:00.1234567Z", ldn, "2025-07-01T10:00:00.123456Z", "2025-07-01T10:00:00.123457Z"},
		{"a leap second runs into the next minute", "2016-12-31T23:59:60Z", ldn, "2017-01-01T00:00:00Z", "2017-01-01T00:00:01Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := ixDateInterval(tc.in, tc.loc)
			if !ok {
				t.Fatalf("ixDateInterval(%q) is not ok", tc.in)
			}
			if want := utcMicro(t, tc.low); lo != want {
				t.Errorf("low of %q = %s, want %s", tc.in, time.UnixMicro(lo).UTC().Format(time.RFC3339Nano), tc.low)
			}
			if want := utcMicro(t, tc.end); hi != want {
				t.Errorf("high of %q = %s, want %s", tc.in, time.UnixMicro(hi).UTC().Format(time.RFC3339Nano), tc.end)
			}
		})
	}
}

func TestDateIntervalsRefuseMalformedValues(t *testing.T) {
	for _, in := range []string{
		"", "25", "0000", "2025-", "2025-13", "2025-00", "2025-1", "2025-02-29", "2025-04-31", "2025-07-00",
		"2025/07/01", "2025-07-01T", "2025-07-01T10", "2025-07-01T24:00:00Z", "2025-07-01T10:60:00Z",
		"2025-07-01T10:00:61Z", "2025-07-01T10:00:00.Z", "2025-07-01Z", "2025-07Z", "2025-07-01+01:00",
		"2025-07-01T10:00:00+15:00", "2025-07-01T10:00:00+0100", "2025-07-01T10:00:00+01:00x",
		"2025-07-01T10:00:00ZZ", "2025-07-01 10:00:00", "２０２５",
	} {
		if lo, hi, ok := ixDateInterval(in, time.UTC); ok {
			t.Errorf("ixDateInterval(%q) = [%d, %d), want not ok", in, lo, hi)
		}
	}
}
