package conformance

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Scope holds a scenario's variables: built-ins, actors, --var values, the
// file's variables and captures. Values are decoded JSON (strings, numbers,
// booleans, maps, slices).
type Scope struct {
	vars map[string]any
	// call runs a function such as token(practiceA); the runner supplies
	// it, since functions reach actors and the network.
	call func(ctx context.Context, name string, args []string) (any, error)
}

// newScope makes a scope holding a copy of base.
func newScope(base map[string]any, call func(context.Context, string, []string) (any, error)) *Scope {
	s := &Scope{vars: make(map[string]any, len(base)+8), call: call}
	for k, v := range base {
		s.vars[k] = v
	}
	return s
}

// Set sets a variable.
func (s *Scope) Set(name string, v any) { s.vars[name] = v }

// lookup resolves name.field.field...
func (s *Scope) lookup(ref string) (any, error) {
	parts := strings.Split(ref, ".")
	v, ok := s.vars[parts[0]]
	if !ok {
		return nil, fmt.Errorf("no variable %q", parts[0])
	}
	for i, p := range parts[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a structure, so has no %q", strings.Join(parts[:i+1], "."), p)
		}
		if v, ok = m[p]; !ok {
			return nil, fmt.Errorf("%s has no %q", strings.Join(parts[:i+1], "."), p)
		}
	}
	return v, nil
}

// Text substitutes every ${...} in s and gives the text.
func (s *Scope) Text(ctx context.Context, in string) (string, error) {
	v, err := s.Value(ctx, in)
	if err != nil {
		return "", err
	}
	if str, ok := v.(string); ok {
		return str, nil
	}
	if t := scalarText(v); t != "" || v == nil {
		return t, nil
	}
	return canonical(v), nil
}

// Value substitutes every ${...} in s. When s is one ${...} and nothing
// else, the value keeps its type (a captured number stays a number).
func (s *Scope) Value(ctx context.Context, in string) (any, error) {
	if !strings.Contains(in, "${") {
		return in, nil
	}
	if strings.HasPrefix(in, "${") {
		if end, err := closing(in, 2); err == nil && end == len(in)-1 {
			return s.eval(ctx, in[2:end])
		}
	}
	var b strings.Builder
	for i := 0; i < len(in); {
		j := strings.Index(in[i:], "${")
		if j < 0 {
			b.WriteString(in[i:])
			break
		}
		b.WriteString(in[i : i+j])
		start := i + j
		end, err := closing(in, start+2)
		if err != nil {
			return nil, err
		}
		v, err := s.eval(ctx, in[start+2:end])
		if err != nil {
			return nil, err
		}
		if str, ok := v.(string); ok {
			b.WriteString(str)
		} else if t := scalarText(v); t != "" {
			b.WriteString(t)
		} else {
			b.WriteString(canonical(v))
		}
		i = end + 1
	}
	return b.String(), nil
}

// closing finds the } that closes a ${ whose content starts at from,
// counting nested ${...}.
func closing(s string, from int) (int, error) {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("%q: ${ without its }", s)
}

// eval evaluates what is inside one ${...}: a variable reference or a
// function call, whose arguments may hold ${...} of their own.
func (s *Scope) eval(ctx context.Context, expr string) (any, error) {
	expr = strings.TrimSpace(expr)
	open := strings.IndexByte(expr, '(')
	if open < 0 {
		ref, fallback, hasFallback := strings.Cut(expr, ":-")
		v, err := s.lookup(strings.TrimSpace(ref))
		if err != nil && hasFallback {
			return s.Value(ctx, fallback)
		}
		return v, err
	}
	if !strings.HasSuffix(expr, ")") {
		return nil, fmt.Errorf("${%s}: a function call ends with )", expr)
	}
	name := strings.TrimSpace(expr[:open])
	var args []string
	if inner := strings.TrimSpace(expr[open+1 : len(expr)-1]); inner != "" {
		for _, raw := range splitArgs(inner) {
			a, err := s.Text(ctx, strings.TrimSpace(raw))
			if err != nil {
				return nil, fmt.Errorf("${%s}: %w", expr, err)
			}
			args = append(args, a)
		}
	}
	v, err := s.function(ctx, name, args)
	if err != nil {
		return nil, fmt.Errorf("${%s}: %w", expr, err)
	}
	return v, nil
}

// splitArgs splits at commas outside ${...}.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// function runs a built-in function, or hands it to the runner.
func (s *Scope) function(ctx context.Context, name string, args []string) (any, error) {
	now := time.Now().UTC()
	switch name {
	case "nhsNumber":
		return NewNHSNumber()
	case "uuid":
		return uuid.NewString(), nil
	case "random":
		n := 8
		if len(args) == 1 {
			var err error
			if n, err = strconv.Atoi(args[0]); err != nil || n < 1 || n > 64 {
				return nil, fmt.Errorf("random(N) takes a length from 1 to 64")
			}
		}
		return randomLetters(n)
	case "now":
		return now.Format(time.RFC3339), nil
	case "today":
		return now.Format(time.DateOnly), nil
	case "date":
		if len(args) != 1 {
			return nil, fmt.Errorf("date(DAYS) takes one argument")
		}
		days, err := strconv.Atoi(args[0])
		if err != nil {
			return nil, fmt.Errorf("date(DAYS): %q is not a whole number", args[0])
		}
		return now.AddDate(0, 0, days).Format(time.DateOnly), nil
	}
	if s.call == nil {
		return nil, fmt.Errorf("unknown function %s()", name)
	}
	return s.call(ctx, name, args)
}

// NewNHSNumber makes a random NHS number from the 999 range set aside for
// testing, with a valid modulus 11 check digit.
func NewNHSNumber() (string, error) {
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return "", fmt.Errorf("random NHS number: %w", err)
		}
		digits := fmt.Sprintf("999%06d", n.Int64())
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(digits[i]-'0') * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check == 10 {
			continue // no valid number with these nine digits
		}
		return digits + strconv.Itoa(check), nil
	}
}

func randomLetters(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		r, err := rand.Int(rand.Reader, big.NewInt(26))
		if err != nil {
			return "", fmt.Errorf("random letters: %w", err)
		}
		b[i] = byte('a' + r.Int64())
	}
	return string(b), nil
}
