package fhir

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file reads the text of FHIR primitive values for search: strings
// normalised for matching, dates and times as the intervals they cover, and
// NHS numbers without their separators. Extraction (extract.go) and query
// parsing (search_parse.go) both use it, so that a stored value and a search
// value written the same way always compare equal.

// NormalizeSearchString returns s as string search compares it: lower-case,
// accents removed ("Zoë" is "zoe"; letters without a decomposition, such as
// "ø", stay), leading and trailing white space dropped and inner runs of
// white space collapsed to one space. StringEntry.Value and the Text of a
// string ClauseValue are normalised this way.
func NormalizeSearchString(s string) string {
	if isNormalSearchASCII(s) {
		return s // most codes, postcodes and lower-case words: no allocation
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFD.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false // a run of white space waits to be written as one space
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			pending = b.Len() > 0
			continue
		case r >= utf8.RuneSelf && unicode.Is(unicode.Mn, r):
			continue // a combining mark: the accent of the letter before it
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	if ascii {
		return b.String()
	}
	return norm.NFC.String(b.String())
}

// isNormalSearchASCII reports whether s is ASCII that NormalizeSearchString
// would not change: no upper case, no white space but single inner spaces.
func isNormalSearchASCII(s string) bool {
	space := true // at the start, or just after a space
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, 'A' <= c && c <= 'Z',
			c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return false
		case c == ' ':
			if space {
				return false
			}
			space = true
		default:
			space = false
		}
	}
	return !space || s == ""
}

// searchNHSNumber removes the spaces and dashes people write inside NHS
// numbers ("943 476 5919", "943-476-5919"), so that every form of one number
// is stored and searched as "9434765919". It does not check the number.
func searchNHSNumber(s string) string {
	if strings.IndexByte(s, ' ') < 0 && strings.IndexByte(s, '-') < 0 {
		return s
	}
	return stripSeparators(s)
}

// searchIdentifierValue returns an identifier value as the index holds it: NHS
// numbers without separators, anything else as written.
func searchIdentifierValue(system, value string) string {
	if system == SystemNHSNumber {
		return searchNHSNumber(value)
	}
	return value
}

// ixPrecision is how much of a date or time a value gives.
type ixPrecision uint8

const (
	ixYear ixPrecision = iota + 1
	ixMonth
	ixDay
	ixMinute
	ixSecond
	ixFraction
)

// ixDateTime is a parsed FHIR date, dateTime or instant: its fields, its
// precision and its time zone offset when it has one.
type ixDateTime struct {
	year, month, day  int
	hour, minute, sec int
	micro             int // microseconds, truncated from the fraction
	fracDigits        int
	prec              ixPrecision
	hasZone           bool
	zoneOffset        int // seconds east of UTC
}

// parseIxDateTime parses the date and time forms FHIR search uses: YYYY,
// YYYY-MM, YYYY-MM-DD, and YYYY-MM-DDThh:mm[:ss[.f+]] with an optional zone
// (Z or ±hh:mm). A zone is refused on a date without a time. FHIR's dateTime
// always has seconds; search values may stop at the minute.
func parseIxDateTime(s string) (ixDateTime, bool) {
	var d ixDateTime
	n := len(s)
	num := func(i, width int) (int, bool) {
		if i+width > n {
			return 0, false
		}
		v := 0
		for j := i; j < i+width; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	var ok bool
	if d.year, ok = num(0, 4); !ok || d.year == 0 {
		return d, false
	}
	d.month, d.day, d.prec = 1, 1, ixYear
	i := 4
	if i == n {
		return d, true
	}
	if s[i] != '-' {
		return d, false
	}
	if d.month, ok = num(i+1, 2); !ok || d.month < 1 || d.month > 12 {
		return d, false
	}
	d.prec, i = ixMonth, i+3
	if i == n {
		return d, true
	}
	if s[i] != '-' {
		return d, false
	}
	if d.day, ok = num(i+1, 2); !ok || d.day < 1 || d.day > daysIn(d.year, d.month) {
		return d, false
	}
	d.prec, i = ixDay, i+3
	if i == n {
		return d, true
	}
	if s[i] != 'T' {
		return d, false
	}
	if d.hour, ok = num(i+1, 2); !ok || d.hour > 23 || i+3 >= n || s[i+3] != ':' {
		return d, false
	}
	if d.minute, ok = num(i+4, 2); !ok || d.minute > 59 {
		return d, false
	}
	d.prec, i = ixMinute, i+6
	if i < n && s[i] == ':' {
		// 60 is a leap second, which FHIR allows; time.Date carries it into
		// the next minute.
		if d.sec, ok = num(i+1, 2); !ok || d.sec > 60 {
			return d, false
		}
		d.prec, i = ixSecond, i+3
		if i < n && s[i] == '.' {
			i++
			start := i
			scale := 100000
			for i < n && '0' <= s[i] && s[i] <= '9' {
				d.micro += int(s[i]-'0') * scale
				scale /= 10
				i++
			}
			d.fracDigits = i - start
			if d.fracDigits == 0 {
				return d, false
			}
			d.prec = ixFraction
		}
	}
	if i == n {
		return d, true
	}
	d.hasZone = true
	switch s[i] {
	case 'Z':
		i++
	case '+', '-':
		h, ok1 := num(i+1, 2)
		m, ok2 := num(i+4, 2)
		if !ok1 || !ok2 || s[i+3] != ':' || h > 14 || m > 59 {
			return d, false
		}
		d.zoneOffset = h*3600 + m*60
		if s[i] == '-' {
			d.zoneOffset = -d.zoneOffset
		}
		i += 6
	default:
		return d, false
	}
	return d, i == n
}

// interval returns the half-open interval [lo, hi) of Unix microseconds that
// the value covers at its precision. A value without a zone is read in loc;
// "2025-03-30" in Europe/London is 23 hours long.
func (d ixDateTime) interval(loc *time.Location) (lo, hi int64) {
	if d.prec <= ixDay {
		start := time.Date(d.year, time.Month(d.month), d.day, 0, 0, 0, 0, loc)
		var end time.Time
		switch d.prec {
		case ixYear:
			end = time.Date(d.year+1, 1, 1, 0, 0, 0, 0, loc)
		case ixMonth:
			end = time.Date(d.year, time.Month(d.month)+1, 1, 0, 0, 0, 0, loc)
		default:
			end = time.Date(d.year, time.Month(d.month), d.day+1, 0, 0, 0, 0, loc)
		}
		return start.UnixMicro(), end.UnixMicro()
	}
	if d.hasZone {
		t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.sec, 0, time.UTC)
		lo = t.Unix()*1e6 - int64(d.zoneOffset)*1e6 + int64(d.micro)
	} else {
		t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.sec, 0, loc)
		lo = t.Unix()*1e6 + int64(d.micro)
	}
	return lo, lo + d.width()
}

// width returns the length, in microseconds, of a time at its precision.
func (d ixDateTime) width() int64 {
	switch d.prec {
	case ixMinute:
		return 60e6
	case ixSecond:
		return 1e6
	}
	w := int64(1e6)
	for i := 0; i < d.fracDigits && w > 1; i++ {
		w /= 10
	}
	return w
}

// ixDateInterval parses s and returns its interval; ok is false when s is not
// a date, dateTime or instant.
func ixDateInterval(s string, loc *time.Location) (lo, hi int64, ok bool) {
	d, ok := parseIxDateTime(s)
	if !ok {
		return 0, 0, false
	}
	lo, hi = d.interval(loc)
	return lo, hi, true
}
