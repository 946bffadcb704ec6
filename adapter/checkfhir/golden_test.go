package checkfhir_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/fhir"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or with -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from its golden file (-want +got):\n%s", name, diff)
	}
}

// goldenFHIR checks a rendered resource: it is compact JSON, the strict
// FHIR decoder accepts it, and, indented, it is testdata/name byte for byte
// (indenting compact JSON adds only whitespace, so every byte is pinned).
func goldenFHIR(t *testing.T, name string, out []byte) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !bytes.Equal(compact.Bytes(), out) {
		t.Errorf("the output is not compact JSON:\n%s", out)
	}
	if _, err := fhir.DecodeResource(out); err != nil {
		t.Errorf("fhir.DecodeResource: %v\n%s", err, out)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, out, "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	golden(t, name, indented.Bytes())
}
