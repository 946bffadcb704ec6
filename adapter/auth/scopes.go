package auth

import (
	"fmt"
	"strings"
)

// Interaction is what a request does to a resource type, as SMART scopes
// grant it.
type Interaction string

// The interactions SMART v2 scopes name (c, r, u, d, s). A read covers
// vread and an instance's history; a search covers type history and
// _include'd resources of the searched type.
const (
	Create Interaction = "create"
	Read   Interaction = "read"
	Update Interaction = "update"
	Delete Interaction = "delete"
	Search Interaction = "search"
)

// permissions is a set of interactions, one bit each in c r u d s order.
type permissions uint8

const (
	permCreate permissions = 1 << iota
	permRead
	permUpdate
	permDelete
	permSearch

	permAll = permCreate | permRead | permUpdate | permDelete | permSearch
)

// v2Letters are the SMART v2 permission letters, in the order the spec
// requires them.
const v2Letters = "cruds"

func permissionOf(i Interaction) permissions {
	switch i {
	case Create:
		return permCreate
	case Read:
		return permRead
	case Update:
		return permUpdate
	case Delete:
		return permDelete
	case Search:
		return permSearch
	}
	return 0
}

// grant is one scope: a resource type (or * for all) and what may be done
// to it. text is how it was written, or its v2 form when it was derived.
type grant struct {
	resourceType string
	perms        permissions
	text         string
}

// Scopes are the SMART system scopes granted to a client, parsed.
type Scopes struct {
	grants []grant
}

// ParseScopes parses space-separated SMART system scopes, v1
// (system/Task.read, system/Task.write, system/Task.*) and v2
// (system/Task.rs: any non-empty subset of c r u d s, in that order); the
// resource type may be *. Backend services act for no patient and no user,
// so patient/ and user/ scopes are refused, as are v2 query parameters and
// anything else that does not parse.
func ParseScopes(s string) (Scopes, error) {
	var out Scopes
	for _, text := range strings.Fields(s) {
		g, err := parseScope(text)
		if err != nil {
			return Scopes{}, err
		}
		out.grants = append(out.grants, g)
	}
	return out, nil
}

func parseScope(text string) (grant, error) {
	context, rest, ok := strings.Cut(text, "/")
	if !ok {
		return grant{}, fmt.Errorf("scope %q is not a SMART system scope such as system/Task.rs", text)
	}
	switch context {
	case "system":
	case "patient", "user":
		return grant{}, fmt.Errorf("scope %q: backend services have %s/ scopes only as system/ scopes", text, context)
	default:
		return grant{}, fmt.Errorf("scope %q: unknown context %q; use system/", text, context)
	}
	resourceType, access, ok := strings.Cut(rest, ".")
	if !ok || !validResourceType(resourceType) {
		return grant{}, fmt.Errorf("scope %q: expected system/<ResourceType or *>.<permissions>", text)
	}
	if strings.ContainsAny(access, "?&=") {
		return grant{}, fmt.Errorf("scope %q: scopes with search parameters are not supported", text)
	}
	perms, err := parseAccess(access)
	if err != nil {
		return grant{}, fmt.Errorf("scope %q: %w", text, err)
	}
	return grant{resourceType: resourceType, perms: perms, text: text}, nil
}

// validResourceType accepts * and names shaped like FHIR resource types
// (an upper-case letter, then letters and digits).
func validResourceType(t string) bool {
	if t == "*" {
		return true
	}
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for _, r := range t {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// parseAccess reads v1 read/write/* or a v2 subset of "cruds" in order.
func parseAccess(access string) (permissions, error) {
	switch access {
	case "read":
		return permRead | permSearch, nil
	case "write":
		return permCreate | permUpdate | permDelete, nil
	case "*":
		return permAll, nil
	}
	var perms permissions
	next := 0 // letters must come in c r u d s order, each at most once
	for _, r := range access {
		i := strings.IndexRune(v2Letters[next:], r)
		if i < 0 {
			return 0, fmt.Errorf("permissions %q: use read, write, * or letters of %q in that order", access, v2Letters)
		}
		next += i + 1
		perms |= 1 << (next - 1)
	}
	if perms == 0 {
		return 0, fmt.Errorf("no permissions after the resource type")
	}
	return perms, nil
}

// Allows reports whether the scopes let a client do i to resources of
// resourceType.
func (s Scopes) Allows(resourceType string, i Interaction) bool {
	p := permissionOf(i)
	if p == 0 {
		return false
	}
	for _, g := range s.grants {
		if (g.resourceType == "*" || g.resourceType == resourceType) && g.perms&p != 0 {
			return true
		}
	}
	return false
}

// Names reports whether a scope naming resourceType itself (not *) lets
// a client do i to it: for what only a client given it by name may do,
// such as reading the audit trail.
func (s Scopes) Names(resourceType string, i Interaction) bool {
	p := permissionOf(i)
	for _, g := range s.grants {
		if g.resourceType == resourceType && g.perms&p != 0 && p != 0 {
			return true
		}
	}
	return false
}

// String is the scopes space-separated, as they were written (derived
// scopes in v2 form).
func (s Scopes) String() string {
	texts := make([]string, len(s.grants))
	for i, g := range s.grants {
		texts[i] = g.text
	}
	return strings.Join(texts, " ")
}

// Empty reports whether the scopes grant nothing.
func (s Scopes) Empty() bool { return len(s.grants) == 0 }

// covers reports whether s allows everything g grants.
func (s Scopes) covers(g grant) bool {
	for p := permCreate; p <= permSearch; p <<= 1 {
		if g.perms&p == 0 {
			continue
		}
		ok := false
		for _, have := range s.grants {
			if (have.resourceType == "*" || have.resourceType == g.resourceType) && have.perms&p != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// within reports whether allowed covers every scope of s; when not, it
// returns the first scope it does not cover.
func (s Scopes) within(allowed Scopes) (string, bool) {
	for _, g := range s.grants {
		if !allowed.covers(g) {
			return g.text, false
		}
	}
	return "", true
}

// intersect is the scopes that both s and other allow: Allows on the
// result is Allows on s and on other.
func (s Scopes) intersect(other Scopes) Scopes {
	var out Scopes
	for _, a := range s.grants {
		if other.covers(a) {
			out.grants = append(out.grants, a)
			continue
		}
		for _, b := range other.grants {
			t := a.resourceType
			switch {
			case a.resourceType == b.resourceType || b.resourceType == "*":
			case a.resourceType == "*":
				t = b.resourceType
			default:
				continue
			}
			if perms := a.perms & b.perms; perms != 0 {
				out.grants = append(out.grants, grant{resourceType: t, perms: perms, text: "system/" + t + "." + perms.letters()})
			}
		}
	}
	return out
}

// letters is the v2 form of p: "rs" for read and search.
func (p permissions) letters() string {
	var b strings.Builder
	for i := range len(v2Letters) {
		if p&(1<<i) != 0 {
			b.WriteByte(v2Letters[i])
		}
	}
	return b.String()
}
