package synth

import (
	"math"
	"strconv"
)

// jsonWriter appends compact JSON in the order it is told, without
// reflection: a generator writes millions of small objects. Callers pair
// every object and array with its end; keys are written as given (they are
// this package's constants), string values are escaped.
type jsonWriter struct {
	b     []byte
	comma bool // a value was written at this level: the next one needs a comma
}

func (w *jsonWriter) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

// key writes `"k":`; the value follows.
func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

// object opens an object, as a member named k, or as an array item when k
// is empty.
func (w *jsonWriter) object(k string) { w.open(k, '{') }

func (w *jsonWriter) endObject() { w.close('}') }

// array opens an array, as a member named k, or as an array item when k is
// empty.
func (w *jsonWriter) array(k string) { w.open(k, '[') }

func (w *jsonWriter) endArray() { w.close(']') }

func (w *jsonWriter) open(k string, bracket byte) {
	if k != "" {
		w.key(k)
	}
	w.sep()
	w.b = append(w.b, bracket)
	w.comma = false
}

func (w *jsonWriter) close(bracket byte) {
	w.b = append(w.b, bracket)
	w.comma = true
}

// str writes a string member, or an array item when k is empty.
func (w *jsonWriter) str(k, v string) {
	if k != "" {
		w.key(k)
	}
	w.sep()
	w.b = appendQuoted(w.b, v)
}

// num writes a number member with prec decimals (FHIR keeps the precision
// as written: 25.0 stays 25.0).
func (w *jsonWriter) num(k string, v float64, prec int) {
	w.key(k)
	w.sep()
	w.b = strconv.AppendFloat(w.b, roundTo(v, prec), 'f', prec, 64)
}

// integer writes an integer member.
func (w *jsonWriter) integer(k string, v int) {
	w.key(k)
	w.sep()
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

// boolean writes a boolean member.
func (w *jsonWriter) boolean(k string, v bool) {
	w.key(k)
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
}

// roundTo rounds v half away from zero to prec decimals.
func roundTo(v float64, prec int) float64 {
	p := math.Pow10(prec)
	return math.Round(v*p) / p
}

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		} else {
			b = append(b, '\\', c)
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
