package auth

import (
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		scopes  string
		wantErr string // empty when the scopes parse
	}{
		{"system/Task.read", ""},
		{"system/Task.write system/Patient.read", ""},
		{"system/*.*", ""},
		{"system/Task.cruds", ""},
		{"system/Task.rs system/Observation.c", ""},
		{"system/*.s", ""},
		{"  system/Task.rs  ", ""},
		{"", ""},
		{"patient/Task.read", "patient/ scopes"},
		{"user/Task.rs", "user/ scopes"},
		{"launch", "not a SMART system scope"},
		{"openid", "not a SMART system scope"},
		{"system/Task", "expected system/"},
		{"system/.rs", "expected system/"},
		{"system/task.rs", "expected system/"},
		{"system/Task.", "no permissions"},
		{"system/Task.sr", "in that order"},
		{"system/Task.rr", "in that order"},
		{"system/Task.x", "in that order"},
		{"system/Task.READ", "in that order"},
		{"system/Observation.rs?category=laboratory", "search parameters"},
		{"organization/Task.rs", "unknown context"},
	}
	for _, tc := range tests {
		_, err := ParseScopes(tc.scopes)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseScopes(%q) = %v, want no error", tc.scopes, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseScopes(%q) error = %v, want one saying %q", tc.scopes, err, tc.wantErr)
		}
	}
}

func TestScopesAllow(t *testing.T) {
	all := []Interaction{Create, Read, Update, Delete, Search}
	tests := []struct {
		scopes string
		typ    string
		allows string // the interactions allowed, by initial, in c r u d s order
	}{
		{"system/Task.read", "Task", "rs"},
		{"system/Task.read", "Patient", ""},
		{"system/Task.write", "Task", "cud"},
		{"system/Task.*", "Task", "cruds"},
		{"system/*.read", "Observation", "rs"},
		{"system/*.*", "AuditEvent", "cruds"},
		{"system/Task.rs", "Task", "rs"},
		{"system/Task.r", "Task", "r"},
		{"system/Task.s", "Task", "s"},
		{"system/Task.cu", "Task", "cu"},
		{"system/Task.d", "Task", "d"},
		{"system/Task.cruds", "Task", "cruds"},
		{"system/Task.r system/Task.s", "Task", "rs"},
		{"system/Patient.rs system/Task.cu", "Task", "cu"},
		{"system/*.c system/Task.r", "Task", "cr"},
		{"", "Task", ""},
	}
	for _, tc := range tests {
		s, err := ParseScopes(tc.scopes)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for _, i := range all {
			if s.Allows(tc.typ, i) {
				got.WriteByte(string(i)[0])
			}
		}
		if got.String() != tc.allows {
			t.Errorf("%q allows on %s %q, want %q", tc.scopes, tc.typ, got.String(), tc.allows)
		}
	}
	s, _ := ParseScopes("system/*.*")
	if s.Allows("Task", Interaction("history")) {
		t.Error("an interaction that is not c r u d s is allowed")
	}
}

func TestScopesWithinAndIntersect(t *testing.T) {
	allowed, _ := ParseScopes("system/*.read system/Task.write")
	within := []struct {
		requested string
		want      bool
	}{
		{"system/Task.cruds", true},
		{"system/Patient.rs", true},
		{"system/*.rs", true},
		{"system/Patient.read", true},
		{"system/Patient.u", false},
		{"system/*.c", false},
		{"system/*.*", false},
	}
	for _, tc := range within {
		requested, _ := ParseScopes(tc.requested)
		if _, got := requested.within(allowed); got != tc.want {
			t.Errorf("%q within %q = %v, want %v", tc.requested, allowed, got, tc.want)
		}
	}
	intersect := []struct{ a, b, want string }{
		{"system/*.cruds", "system/*.read system/Task.write", "system/*.rs system/Task.cud"},
		{"system/Task.rs", "system/*.read", "system/Task.rs"},
		{"system/Task.cruds", "system/Patient.rs", ""},
		{"system/Task.cr", "system/Task.rs", "system/Task.r"},
		{"system/*.r", "system/Task.cruds system/Patient.s", "system/Task.r"},
	}
	for _, tc := range intersect {
		a, _ := ParseScopes(tc.a)
		b, _ := ParseScopes(tc.b)
		if got := a.intersect(b).String(); got != tc.want {
			t.Errorf("%q ∩ %q = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

// Intersecting never allows what either side refuses, and keeps what both
// allow: checked on every pair of a set of scope strings.
func TestScopesIntersectIsAllowsOnBoth(t *testing.T) {
	samples := []string{"system/*.*", "system/*.rs", "system/Task.cruds", "system/Task.read system/Patient.c",
		"system/*.c system/Task.rs", "system/Patient.write", "system/Observation.s", ""}
	types := []string{"Task", "Patient", "Observation", "AuditEvent"}
	for _, sa := range samples {
		for _, sb := range samples {
			a, _ := ParseScopes(sa)
			b, _ := ParseScopes(sb)
			both := a.intersect(b)
			for _, typ := range types {
				for _, i := range []Interaction{Create, Read, Update, Delete, Search} {
					if got, want := both.Allows(typ, i), a.Allows(typ, i) && b.Allows(typ, i); got != want {
						t.Errorf("(%q ∩ %q).Allows(%s, %s) = %v, want %v", sa, sb, typ, i, got, want)
					}
				}
			}
		}
	}
}
