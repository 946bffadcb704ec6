package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/fhir"
)

// synthSummary reads the scenario table that carebridge synth prints.
func synthSummary(t *testing.T, out string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z0-9./-]+) +(\d+)$`).FindAllStringSubmatch(out, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(counts) < 40 {
		t.Fatalf("synth printed no scenario table:\n%s", out)
	}
	return counts
}

// resourceCounts counts the current resources and the versions of every
// served type.
func resourceCounts(t *testing.T, a *app) (current, versions int) {
	t.Helper()
	ctx := context.Background()
	for _, typ := range fhir.ServedTypes() {
		page, err := a.gateway.Search(ctx, typ, url.Values{"_summary": {"count"}}, false)
		if err != nil {
			t.Fatalf("count %s: %v", typ, err)
		}
		current += page.Result.Total
		hist, err := a.gateway.History(ctx, typ, "", url.Values{})
		if err != nil {
			t.Fatalf("history of %s: %v", typ, err)
		}
		versions += hist.Result.Total
	}
	return current, versions
}

func openSynthDB(t *testing.T, db string) *app {
	t.Helper()
	cfg := defaultConfig()
	cfg.DB = db
	a, err := newApp(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSynthStoresAPopulationThatMapsWholeAndLoadsOnce loads the demo
// population (uk-core-gp, gp-nhs-number-refs, uk-core-trust) and a national
// one (whose first trust speaks trust-epr-icd10) through the gateway.
func TestSynthStoresAPopulationThatMapsWholeAndLoadsOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flags     []string
		practices string
	}{
		{"demo", nil, "A12345 B23456 C34567"},
		{"national", []string{"--national"}, "P00001"},
	} {
		t.Run(tc.name, func(t *testing.T) { testSynthLoad(t, tc.flags, tc.practices) })
	}
}

func testSynthLoad(t *testing.T, flags []string, practices string) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "synth.db")
	args := append([]string{"synth", "--people", "60", "--seed", "4", "--as-of", "2026-06-30", "--db", db, "--sqlite-synchronous", "NORMAL"}, flags...)
	var out, errs bytes.Buffer
	if err := run(ctx, args, noEnv, &out, &errs); err != nil {
		t.Fatalf("synth: %v\n%s", err, errs.String())
	}
	if !strings.HasPrefix(out.String(), "synthetic population: 60 people, ") {
		t.Errorf("synth printed:\n%s", out.String())
	}
	want := synthSummary(t, out.String())

	a := openSynthDB(t, db)
	page, err := a.gateway.Search(ctx, "Patient", url.Values{"_count": {"1000"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]bool{}
	for _, r := range page.Result.Resources {
		v, err := fhir.ParseJSON(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := v.Get("identifier")
		for _, id := range ids.Items() {
			if id.Str("system") == fhir.SystemNHSNumber {
				people[id.Str("value")] = true
			}
		}
	}
	if len(people) != 60 {
		t.Fatalf("%d people in the Patients, want 60", len(people))
	}
	// What the gateway assembled agrees with what the generator says it sent.
	got := map[string]int{}
	for nhs := range people {
		rec, err := a.gateway.Record(ctx, nhs)
		if err != nil {
			t.Fatalf("record of %s: %v", nhs, err)
		}
		if len(rec.Register) == 0 || !strings.Contains(practices, rec.Person.GPPractice) || rec.Person.GPPractice == "" {
			t.Errorf("record of %s: register %v, practice %q", nhs, rec.Register, rec.Person.GPPractice)
		}
		count := func(key string, yes bool) {
			if yes {
				got[key]++
			}
		}
		remission, ended, bpDeclined := false, false, false
		for _, e := range rec.Register {
			remission = remission || e.Remission
		}
		for _, e := range rec.Episodes {
			ended = ended || e.End != ""
		}
		for _, d := range rec.Declines {
			bpDeclined = bpDeclined || d.Component == "blood-pressure"
		}
		count("remission", remission)
		count("deceased", rec.Person.Deceased)
		count("gp-only", len(rec.Episodes) == 0)
		count("episode/discharged", ended)
		count("decline/blood-pressure", bpDeclined)
		count("gp-referral", len(rec.Referrals) > 0)
		count("trust-task", len(rec.WorkItems) > 0)
		count("gp-care-plan", len(rec.CarePlans) > 0)
		count("has evidence", len(rec.Evidence) > 0)
	}
	for _, key := range []string{"remission", "deceased", "gp-only", "episode/discharged", "decline/blood-pressure", "gp-referral", "trust-task", "gp-care-plan"} {
		if got[key] != want[key] {
			t.Errorf("%s: %d records show it, the generator says %d", key, got[key], want[key])
		}
	}
	if got["has evidence"] < 50 {
		t.Errorf("only %d of 60 records hold health check evidence", got["has evidence"])
	}
	report, err := a.gateway.UnmappedReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range report {
		t.Errorf("unmapped: %s %s %s|%s in %d resources", r.Profile, r.What, r.System, r.Code, r.Count)
	}
	current, versions := resourceCounts(t, a)
	a.close()

	// The same seed again changes nothing.
	out.Reset()
	if err := run(ctx, args, noEnv, &out, &errs); err != nil {
		t.Fatalf("synth again: %v\n%s", err, errs.String())
	}
	a = openSynthDB(t, db)
	defer a.close()
	if c, v := resourceCounts(t, a); c != current || v != versions {
		t.Errorf("after a second load: %d resources, %d versions; before: %d, %d", c, v, current, versions)
	}
}

func TestSynthWritesTheSameNDJSONForTheSameSeed(t *testing.T) {
	ctx := context.Background()
	var files [2]map[string][]byte
	for i := range files {
		dir := t.TempDir()
		var out bytes.Buffer
		args := []string{"synth", "--people", "80", "--seed", "9", "--as-of", "2026-01-15", "--people-per-bundle", "20", "--out", dir}
		if err := run(ctx, args, noEnv, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		files[i] = map[string][]byte{}
		lines := 0
		for _, side := range []string{"primary", "secondary"} {
			data, err := os.ReadFile(filepath.Join(dir, side+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			files[i][side] = data
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				lines++
				if !json.Valid(sc.Bytes()) {
					t.Fatalf("%s.ndjson line %d is not JSON", side, lines)
				}
			}
		}
		if want := regexp.MustCompile(`80 people, (\d+) bundles`).FindStringSubmatch(out.String()); want == nil || want[1] != strconv.Itoa(lines) {
			t.Errorf("%d NDJSON lines; synth printed:\n%s", lines, out.String())
		}
	}
	for side, data := range files[0] {
		if !bytes.Equal(data, files[1][side]) {
			t.Errorf("%s.ndjson differs between two runs with one seed", side)
		}
	}
}

func TestSynthNeedsExactlyOneDestination(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"synth"}, nil, "say where the population goes"},
		{[]string{"synth", "--out", dir, "--db", "sqlite:" + filepath.Join(dir, "x.db")}, nil, "not both"},
		{[]string{"synth", "--db", "sqlite:" + filepath.Join(dir, "x.db"), "--as-of", "30/06/2026"}, nil, `as-of date "30/06/2026"`},
	} {
		err := run(context.Background(), tc.args, envOf(tc.env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	// CAREBRIDGE_DB is a destination; --out overrides it.
	out := filepath.Join(dir, "files")
	err := run(context.Background(), []string{"synth", "--people", "3", "--as-of", "2026-06-30", "--out", out},
		envOf(map[string]string{"CAREBRIDGE_DB": "sqlite:" + filepath.Join(dir, "env.db")}), io.Discard, io.Discard)
	if _, serr := os.Stat(filepath.Join(out, "primary.ndjson")); err != nil || serr != nil {
		t.Errorf("--out with CAREBRIDGE_DB set: %v, %v", err, serr)
	}
}
