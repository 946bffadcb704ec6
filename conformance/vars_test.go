package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSubstitution(t *testing.T) {
	ctx := context.Background()
	calls := 0
	s := newScope(map[string]any{
		"id":        "abc",
		"n":         3.0,
		"practiceA": map[string]any{"ods": "A12345"},
	}, func(_ context.Context, name string, args []string) (any, error) {
		calls++
		if name == "echo" {
			return strings.Join(args, "+"), nil
		}
		return nil, errors.New("unknown")
	})
	cases := []struct{ in, want string }{
		{"/Patient/${id}", "/Patient/abc"},
		{"${practiceA.ods}", "A12345"},
		{"${missing:-fallback}", "fallback"},
		{"${missing:-${id}}", "abc"},
		{"x${n}y", "x3y"},
		{"${echo(a, ${id}, ${practiceA.ods})}", "a+abc+A12345"},
		{"no variables", "no variables"},
	}
	for _, c := range cases {
		got, err := s.Text(ctx, c.in)
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if v, err := s.Value(ctx, "${n}"); err != nil || v != 3.0 {
		t.Errorf("${n} = %#v, %v; want the number 3", v, err)
	}
	for _, bad := range []string{"${nope}", "${id", "${practiceA.nhs}", "${id.x}", "${date(x)}", "${random(0)}", "${other()}"} {
		if _, err := s.Text(ctx, bad); err == nil {
			t.Errorf("%q substituted, want an error", bad)
		}
	}
	if calls == 0 {
		t.Error("the runner's functions were never called")
	}
}

func TestNHSNumbersAreValidAndFresh(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		n, err := NewNHSNumber()
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != 10 || !strings.HasPrefix(n, "999") {
			t.Fatalf("%s is not a ten-digit 999 number", n)
		}
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(n[i]-'0') * (10 - i)
		}
		check := (11 - sum%11) % 11
		if check == 10 || int(n[9]-'0') != check {
			t.Fatalf("%s fails the modulus 11 check", n)
		}
		seen[n] = true
	}
	if len(seen) < 190 {
		t.Errorf("only %d different numbers in 200", len(seen))
	}
}
