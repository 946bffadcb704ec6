package sharedcare

import (
	"reflect"
	"testing"
)

// TestSourceRefsNamesEverySourceRef fills every slice and pointer of a Facts
// with one element and checks that SourceRefs returns exactly the SourceRefs
// a reflective walk finds: a field added to the model without a line in
// SourceRefs fails here.
func TestSourceRefsNamesEverySourceRef(t *testing.T) {
	var f Facts
	want := map[*SourceRef]bool{}
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fill(v.Index(0))
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[SourceRef]() {
				want[v.Addr().Interface().(*SourceRef)] = true
				return
			}
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		}
	}
	fill(reflect.ValueOf(&f).Elem())
	if len(want) < 8 {
		t.Fatalf("the walk found %d SourceRefs; the model has at least 8", len(want))
	}
	got := map[*SourceRef]bool{}
	for _, p := range f.SourceRefs() {
		if got[p] {
			t.Errorf("SourceRefs returns %p twice", p)
		}
		got[p] = true
		if !want[p] {
			t.Errorf("SourceRefs returns %p, which is not a SourceRef of the facts", p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("SourceRefs returns %d of the %d SourceRefs in the facts", len(got), len(want))
	}
}

// TestEmptyCountsEveryField sets each field of a Facts in turn: only the
// fields that say who the facts are about, or from which side, leave it
// Empty.
func TestEmptyCountsEveryField(t *testing.T) {
	whoOrSide := map[string]bool{"NHSNumber": true, "PatientRef": true, "Side": true}
	if f := (Facts{}); !f.Empty() {
		t.Error("zero Facts are not Empty")
	}
	ft := reflect.TypeFor[Facts]()
	for i := range ft.NumField() {
		var f Facts
		v := reflect.ValueOf(&f).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		default:
			t.Fatalf("field %s is a %s; teach this test to set it", ft.Field(i).Name, v.Kind())
		}
		if got, want := f.Empty(), whoOrSide[ft.Field(i).Name]; got != want {
			t.Errorf("with %s set, Empty() = %v, want %v", ft.Field(i).Name, got, want)
		}
	}
}
