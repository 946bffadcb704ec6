package healthcheck

import (
	"fmt"
	"strings"
	"time"
)

// Date is a calendar date, without time or zone.
type Date struct{ t time.Time } // midnight UTC

// NewDate returns the date y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// clinicalDate returns the calendar date, in loc, of a FHIR date or
// dateTime. A partial date (year, year-month) has no day and is not a
// clinical date: false.
func clinicalDate(s string, loc *time.Location) (Date, bool) {
	if len(s) == len(time.DateOnly) {
		d, err := ParseDate(s)
		return d, err == nil
	}
	if !strings.Contains(s, "T") {
		return Date{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Date{}, false
	}
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d), true
}

// String formats the date as YYYY-MM-DD; "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// MarshalText formats the date as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Equal reports whether d and e are the same date.
func (d Date) Equal(e Date) bool { return d.t.Equal(e.t) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.t.Compare(e.t) }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddMonths returns d moved by n calendar months; a day the target month
// lacks becomes its last day (29 February less 12 months is 28 February).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.t.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return NewDate(first.Year(), first.Month(), min(day, last))
}

// AddYears returns d moved by n years, as AddMonths(12n).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// qofYearStart returns 1 April of the QOF year (1 April to 31 March) that
// contains d.
func qofYearStart(d Date) Date {
	y, m, _ := d.t.Date()
	if m < time.April {
		y--
	}
	return NewDate(y, time.April, 1)
}

// DateOf returns the calendar date of instant t where loc keeps time: the
// reference date "today" is DateOf(time.Now(), Europe/London).
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}
