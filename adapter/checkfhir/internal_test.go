package checkfhir

import (
	"testing"

	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/sharedcare"
)

func TestScoreHasFourDecimalPlacesRoundedHalfUp(t *testing.T) {
	for _, tc := range []struct {
		num, den int
		want     string
	}{
		{0, 5, "0.0000"},
		{5, 5, "1.0000"},
		{1, 3, "0.3333"},
		{2, 3, "0.6667"},
		{1, 8, "0.1250"},
		{1, 16, "0.0625"},
		{1, 20000, "0.0001"}, // 0.00005: half up
		{1, 20001, "0.0000"}, // just under half
		{549999, 550000, "1.0000"},
		{274999, 550000, "0.5000"},
		{7, 5, "1.4000"}, // not a proportion, still formatted
	} {
		q := score(tc.num, tc.den)
		if q == nil || string(q.Value) != tc.want {
			t.Errorf("score(%d, %d) = %v, want %s", tc.num, tc.den, q, tc.want)
		}
	}
	if q := score(3, 0); q != nil {
		t.Errorf("score(3, 0) = %v, want nil: no score without a denominator", q)
	}
}

func TestEveryCodeHasADisplay(t *testing.T) {
	for _, c := range sharedcare.Components {
		if componentDisplays[c] == "" {
			t.Errorf("component %q has no display", c)
		}
	}
	for _, m := range healthcheck.Measures {
		if measureDisplays[m] == "" {
			t.Errorf("measure %q has no display", m)
		}
	}
}

func TestDecimalsHaveNoExponent(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{31.25, "31.25"},
		{1e21, "1000000000000000000000"},
		{0.000001, "0.000001"},
		{-4.5, "-4.5"},
		{48, "48"},
	} {
		var p params
		p.decimal("value", tc.f)
		if p.err != nil || len(p.list) != 1 || string(p.list[0].ValueDecimal) != tc.want {
			t.Errorf("decimal(%v) = %+v, want %s", tc.f, p, tc.want)
		}
	}
}
