package conformance

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

//go:embed all:suites
var builtin embed.FS

// BuiltinSuites loads every built-in suite, in the order of their names'
// place in BuiltinOrder, then any others by name.
func BuiltinSuites() ([]*Suite, error) {
	entries, err := fs.ReadDir(builtin, "suites")
	if err != nil {
		return nil, fmt.Errorf("built-in suites: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	rank := func(n string) int {
		for i, b := range BuiltinOrder {
			if b == n {
				return i
			}
		}
		return len(BuiltinOrder)
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var out []*Suite
	for _, n := range names {
		s, err := LoadSuite(builtin, "suites/"+n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// BuiltinOrder is the order built-in suites run in: plain FHIR first, then
// what builds on it.
var BuiltinOrder = []string{"core", "bad-input", "bundles", "security", "tasks", "mappings", "health-check"}

// LoadSuites resolves --suite values: a built-in suite's name, a folder
// holding suite.yaml, or a folder of such folders.
func LoadSuites(refs []string) ([]*Suite, error) {
	all, err := BuiltinSuites()
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return all, nil
	}
	var out []*Suite
	for _, ref := range refs {
		// A built-in suite's name wins over a folder of that name that is not
		// a suite (run from the repository, mappings is also a Go package).
		builtinName := false
		for _, s := range all {
			builtinName = builtinName || s.Name == ref
		}
		_, suiteErr := os.Stat(filepath.Join(ref, "suite.yaml"))
		if st, err := os.Stat(ref); err == nil && st.IsDir() && (!builtinName || suiteErr == nil) {
			found, err := loadFolder(ref)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
			continue
		}
		var hit *Suite
		for _, s := range all {
			if s.Name == ref {
				hit = s
			}
		}
		if hit == nil {
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("--suite %s: neither a folder nor a built-in suite (%v)", ref, names)
		}
		out = append(out, hit)
	}
	return out, nil
}

// loadFolder loads a suite folder, or every suite folder directly inside
// dir.
func loadFolder(dir string) ([]*Suite, error) {
	fsys := os.DirFS(dir)
	if _, err := fs.Stat(fsys, "suite.yaml"); err == nil {
		s, err := LoadSuite(fsys, ".")
		if err != nil {
			return nil, err
		}
		if s.Name == "." {
			s.Name = filepath.Base(filepath.Clean(dir))
		}
		return []*Suite{s}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("suite folder %s: %w", dir, err)
	}
	var out []*Suite
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "suite.yaml")); err != nil {
			continue
		}
		s, err := LoadSuite(os.DirFS(filepath.Join(dir, e.Name())), ".")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), err)
		}
		if s.Name == "." {
			s.Name = e.Name()
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("suite folder %s holds no suite.yaml", dir)
	}
	return out, nil
}
