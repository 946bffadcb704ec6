package mappings

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Registry holds the mapping profiles of a deployment and chooses one per
// write.
type Registry struct {
	codes    *CodeSets
	mappers  map[string]*Mapper // by profile id
	bySource map[string]*Mapper // by meta.source
	fallback *Mapper
}

// CodeSetsVersion is the version label of the code sets the registry's
// profiles classify concepts with, which every health check verdict records.
func (r *Registry) CodeSetsVersion() string { return r.codes.Version }

// ShippedProfiles returns the profiles that ship with CareBridge.
func ShippedProfiles() ([]*Profile, error) {
	return loadProfiles(shipped, "profiles")
}

// LoadProfileDir reads every *.yaml profile in dir.
func LoadProfileDir(dir string) ([]*Profile, error) {
	return loadProfiles(os.DirFS(dir), ".")
}

func loadProfiles(fsys fs.FS, dir string) ([]*Profile, error) {
	names, err := fs.Glob(fsys, filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []*Profile
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		p, err := ParseProfile(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// NewRegistry builds a registry. fallback names the profile for writes whose
// meta.source names none ("" for none: such writes are then not mapped).
func NewRegistry(codes *CodeSets, profiles []*Profile, fallback string) (*Registry, error) {
	r := &Registry{codes: codes, mappers: map[string]*Mapper{}, bySource: map[string]*Mapper{}}
	for _, p := range profiles {
		if _, dup := r.mappers[p.ID]; dup {
			return nil, fmt.Errorf("two mapping profiles are called %q", p.ID)
		}
		m := NewMapper(p, codes)
		r.mappers[p.ID] = m
		for _, s := range p.Sources {
			if other, dup := r.bySource[s]; dup {
				return nil, fmt.Errorf("profiles %q and %q both claim source %q", other.profile.ID, p.ID, s)
			}
			r.bySource[s] = m
		}
	}
	if fallback != "" {
		if r.fallback = r.mappers[fallback]; r.fallback == nil {
			return nil, fmt.Errorf("default mapping profile %q is not loaded (loaded: %s)", fallback, strings.Join(r.IDs(), ", "))
		}
	}
	return r, nil
}

// NewShippedRegistry returns a registry of the shipped code sets and
// profiles, plus extra profiles, with fallback as the default profile.
func NewShippedRegistry(extra []*Profile, fallback string) (*Registry, error) {
	codes, err := DefaultCodeSets()
	if err != nil {
		return nil, err
	}
	profiles, err := ShippedProfiles()
	if err != nil {
		return nil, err
	}
	return NewRegistry(codes, append(profiles, extra...), fallback)
}

// IDs lists the loaded profiles.
func (r *Registry) IDs() []string {
	var ids []string
	for id := range r.mappers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Mapper returns the profile's mapper by id.
func (r *Registry) Mapper(id string) (*Mapper, bool) {
	m, ok := r.mappers[id]
	return m, ok
}

// ForSource chooses the mapper for a write: by its meta.source (a profile's
// source, optionally followed by "#..." as FHIR allows), else the fallback.
func (r *Registry) ForSource(metaSource string) (*Mapper, bool) {
	base, _, _ := strings.Cut(metaSource, "#")
	if m, ok := r.bySource[base]; ok {
		return m, true
	}
	return r.fallback, r.fallback != nil
}
