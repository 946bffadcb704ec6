package conformance

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// check tests an answer against a step's expectations. Every expectation
// is checked; the error names each that failed. Misses of warningOnly
// assertions are returned as warnings.
func (r *runner) check(ctx context.Context, scope *Scope, st *Step, resp *http.Response, body []byte, doc any) ([]string, error) {
	var fails, warns []string
	e := st.Expect
	if !e.Status.Allows(resp.StatusCode) {
		msg := fmt.Sprintf("status %d, want %s", resp.StatusCode, e.Status)
		if d := diagnostics(doc); d != "" {
			msg += " (" + d + ")"
		}
		// The rest would only repeat that the answer is not the one expected.
		return nil, fmt.Errorf("%s", msg)
	}
	names := make([]string, 0, len(e.Headers))
	for n := range e.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a := e.Headers[name]
		var got []any
		if vals := resp.Header.Values(name); len(vals) > 0 {
			got = []any{strings.Join(vals, ", ")}
		}
		msgs, err := r.assert(ctx, scope, a, got)
		if err != nil {
			return warns, fmt.Errorf("header %s: %w", name, err)
		}
		for _, m := range msgs {
			if a.WarningOnly {
				warns = append(warns, "header "+name+": "+m)
			} else {
				fails = append(fails, "header "+name+": "+m)
			}
		}
	}
	if len(e.Outcome) > 0 {
		if msg := checkOutcome(doc, e.Outcome); msg != "" {
			fails = append(fails, msg)
		}
	}
	for _, a := range e.Body {
		expr := a.expr
		if expr == nil {
			src, err := scope.Text(ctx, a.Path)
			if err != nil {
				return warns, fmt.Errorf("path %s: %w", a.Path, err)
			}
			if expr, err = CompileExpr(src); err != nil {
				return warns, err
			}
		}
		// Without a JSON body every expression gives nothing, so that
		// exists: false and count: 0 hold on an empty answer.
		got, err := expr.Eval(doc)
		if err != nil {
			return warns, err
		}
		msgs, err := r.assert(ctx, scope, a, got)
		if err != nil {
			return warns, fmt.Errorf("%s: %w", a.Path, err)
		}
		for _, m := range msgs {
			if a.WarningOnly {
				warns = append(warns, expr.String()+": "+m)
			} else {
				fails = append(fails, expr.String()+": "+m)
			}
		}
	}
	for _, s := range e.NotContains {
		text, err := scope.Text(ctx, s)
		if err != nil {
			return warns, fmt.Errorf("notContains: %w", err)
		}
		if text != "" && strings.Contains(string(body), text) {
			fails = append(fails, fmt.Sprintf("the body holds %q, which it must not", text))
		}
	}
	if len(fails) > 0 {
		return warns, fmt.Errorf("%s", strings.Join(fails, "; "))
	}
	return warns, nil
}

// diagnostics is the first issue of an OperationOutcome, to explain an
// unexpected status.
func diagnostics(doc any) string {
	oo, ok := doc.(map[string]any)
	if !ok || oo["resourceType"] != "OperationOutcome" {
		return ""
	}
	issues, _ := oo["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	is, _ := issues[0].(map[string]any)
	text := fmt.Sprintf("%v", is["code"])
	if d, ok := is["diagnostics"].(string); ok {
		text += ": " + shorten(d, 160)
	}
	return text
}

// checkOutcome checks that doc is an OperationOutcome with an issue of each
// code.
func checkOutcome(doc any, codes []string) string {
	oo, ok := doc.(map[string]any)
	if !ok || oo["resourceType"] != "OperationOutcome" {
		kind := "no JSON"
		if m, ok := doc.(map[string]any); ok {
			kind = fmt.Sprintf("a %v", m["resourceType"])
		}
		return fmt.Sprintf("want an OperationOutcome with %s, got %s", strings.Join(codes, ", "), kind)
	}
	have := map[string]bool{}
	var list []string
	issues, _ := oo["issue"].([]any)
	for _, i := range issues {
		if m, ok := i.(map[string]any); ok {
			c := fmt.Sprint(m["code"])
			if !have[c] {
				list = append(list, c)
			}
			have[c] = true
		}
	}
	var missing []string
	for _, c := range codes {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("OperationOutcome issue codes [%s], want %s", strings.Join(list, ", "), strings.Join(missing, ", "))
	}
	return ""
}

// assert applies an assertion's operators to a result, and says what
// missed.
func (r *runner) assert(ctx context.Context, scope *Scope, a Assertion, got []any) ([]string, error) {
	var misses []string
	for _, op := range a.Ops {
		want, err := substitute(ctx, scope, op.Value)
		if err != nil {
			return nil, err
		}
		msg, err := applyOp(op.Name, got, want)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			misses = append(misses, msg)
		}
	}
	return misses, nil
}

// applyOp checks one operator; "" when it holds.
func applyOp(name string, got []any, want any) (string, error) {
	single := func() (any, string) {
		if len(got) != 1 {
			return nil, fmt.Sprintf("gives %d values (%s), want one that %s %s", len(got), show(got), opVerb(name), showValue(want))
		}
		return got[0], ""
	}
	if list, ok := want.([]any); ok && (name == "equals" || name == "notEquals") {
		// A list compares with the whole result, in order.
		same := len(list) == len(got)
		for i := 0; same && i < len(list); i++ {
			same = valuesEqual(got[i], list[i])
		}
		if same != (name == "equals") {
			if name == "equals" {
				return fmt.Sprintf("gives %s, want %s", show(got), showValue(want)), nil
			}
			return fmt.Sprintf("gives %s, which it must not", show(got)), nil
		}
		return "", nil
	}
	switch name {
	case "equals", "notEquals":
		v, miss := single()
		if miss != "" {
			return miss, nil
		}
		if valuesEqual(v, want) != (name == "equals") {
			if name == "equals" {
				return fmt.Sprintf("is %s, want %s", showValue(v), showValue(want)), nil
			}
			return fmt.Sprintf("is %s, which it must not be", showValue(v)), nil
		}
	case "oneOf":
		v, miss := single()
		if miss != "" {
			return miss, nil
		}
		list, ok := want.([]any)
		if !ok {
			return "", fmt.Errorf("oneOf takes a list")
		}
		for _, w := range list {
			if valuesEqual(v, w) {
				return "", nil
			}
		}
		return fmt.Sprintf("is %s, want one of %s", showValue(v), showValue(want)), nil
	case "contains", "notContains":
		has := false
		for _, v := range got {
			if valuesEqual(v, want) {
				has = true
			}
		}
		if !has && len(got) == 1 {
			if s, ok := got[0].(string); ok {
				has = strings.Contains(s, scalarText(want))
			}
		}
		if has != (name == "contains") {
			if name == "contains" {
				return fmt.Sprintf("%s does not contain %s", show(got), showValue(want)), nil
			}
			return fmt.Sprintf("%s contains %s, which it must not", show(got), showValue(want)), nil
		}
	case "matches":
		v, miss := single()
		if miss != "" {
			return miss, nil
		}
		re, err := regexp.Compile(scalarText(want))
		if err != nil {
			return "", fmt.Errorf("matches: %w", err)
		}
		if !re.MatchString(scalarText(v)) {
			return fmt.Sprintf("%s does not match %s", showValue(v), re), nil
		}
	case "exists":
		wantB, ok := want.(bool)
		if !ok {
			return "", fmt.Errorf("exists takes true or false")
		}
		if (len(got) > 0) != wantB {
			if wantB {
				return "gives no value, want one", nil
			}
			return fmt.Sprintf("gives %s, want nothing", show(got)), nil
		}
	case "count":
		n, ok := number(want)
		if !ok {
			return "", fmt.Errorf("count takes a number")
		}
		if float64(len(got)) != n {
			return fmt.Sprintf("gives %d values (%s), want %s", len(got), show(got), scalarText(want)), nil
		}
	case "greaterThan", "lessThan":
		v, miss := single()
		if miss != "" {
			return miss, nil
		}
		c, ok := compareValues(v, want)
		if !ok || (name == "greaterThan" && c <= 0) || (name == "lessThan" && c >= 0) {
			return fmt.Sprintf("is %s, want %s %s", showValue(v), opVerb(name), showValue(want)), nil
		}
	default:
		return "", fmt.Errorf("unknown operator %s", name)
	}
	return "", nil
}

func opVerb(name string) string {
	switch name {
	case "equals":
		return "equals"
	case "notEquals":
		return "is not"
	case "oneOf":
		return "is one of"
	case "matches":
		return "matches"
	case "greaterThan":
		return "greater than"
	case "lessThan":
		return "less than"
	}
	return name
}

// show prints a result collection briefly.
func show(got []any) string {
	if len(got) == 0 {
		return "nothing"
	}
	parts := make([]string, 0, len(got))
	for i, v := range got {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("… %d more", len(got)-5))
			break
		}
		parts = append(parts, showValue(v))
	}
	return strings.Join(parts, ", ")
}

func showValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", shorten(s, 80))
	}
	return shorten(canonical(v), 80)
}
