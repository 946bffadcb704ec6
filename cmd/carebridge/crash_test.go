package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
)

// buildBinary builds carebridge once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "carebridge-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "carebridge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

var servingRe = regexp.MustCompile(`"msg":"serving","addr":"(127\.0\.0\.1:\d+)"`)

// startProcess runs `carebridge serve` as a separate process and returns its
// base URL.
func startProcess(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--db", db)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, "http://" + addr + "/fhir"
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not start within 30s")
		return nil, ""
	}
}

// crashBundle is a transaction of 10 Patients and 10 Observations that
// reference them by urn:uuid, every resource tagged with the bundle's number.
func crashBundle(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	tag := fmt.Sprintf(`"meta":{"tag":[{"system":"urn:carebridge:test:bundle","code":"b%d"}]}`, n)
	for i := range 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		uuid := fmt.Sprintf("urn:uuid:%08x-0000-4000-8000-%012x", n, i)
		fmt.Fprintf(&b, `{"fullUrl":"%s","resource":{"resourceType":"Patient",%s,"name":[{"family":"Crash%d"}]},"request":{"method":"POST","url":"Patient"}},`, uuid, tag, i)
		fmt.Fprintf(&b, `{"resource":{"resourceType":"Observation",%s,"status":"final","code":{"text":"weight"},"subject":{"reference":"%s"},"valueQuantity":{"value":%d,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}},"request":{"method":"POST","url":"Observation"}}`, tag, uuid, 60+i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestKilledGatewayLeavesEveryBundleWholeOrAbsent sends transactions from
// four clients, kills the gateway process (SIGKILL) while they are in flight,
// restarts it on the same database, and checks every Bundle: all 20 of its
// resources are there or none is, and every Bundle that was acknowledged is
// there.
func TestKilledGatewayLeavesEveryBundleWholeOrAbsent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, db := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "crash.db") },
		"postgres": func(t *testing.T) string { return pgtest.Database(t) },
	} {
		t.Run(name, func(t *testing.T) {
			url := db(t)
			proc, base := startProcess(t, bin, url)

			var next atomic.Int64
			var mu sync.Mutex
			acked := map[int]bool{}
			sent := map[int]bool{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						n := int(next.Add(1))
						mu.Lock()
						sent[n] = true
						mu.Unlock()
						req, _ := http.NewRequestWithContext(ctx, "POST", base, bytes.NewReader(crashBundle(n)))
						req.Header.Set("Content-Type", "application/fhir+json")
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							return // the gateway is gone
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == http.StatusOK {
							mu.Lock()
							acked[n] = true
							mu.Unlock()
						}
					}
				}()
			}
			// Kill once a few Bundles are in, with others in flight.
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 20 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("only %d bundles acknowledged in 30s", n)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := proc.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = proc.Wait()
			cancel()
			wg.Wait()

			_, base = startProcess(t, bin, url)
			partial, lost, present := 0, 0, 0
			for n := range sent {
				patients := countTagged(t, base, "Patient", n)
				observations := countTagged(t, base, "Observation", n)
				switch {
				case patients == 10 && observations == 10:
					present++
				case patients == 0 && observations == 0:
					if acked[n] {
						lost++
					}
				default:
					partial++
					t.Errorf("bundle %d is partly stored: %d Patients, %d Observations", n, patients, observations)
				}
			}
			if lost > 0 {
				t.Errorf("%d acknowledged bundles are missing after the restart", lost)
			}
			if present < len(acked) {
				t.Errorf("%d bundles present, fewer than the %d acknowledged", present, len(acked))
			}
			t.Logf("%d bundles sent, %d acknowledged, %d present after the kill, %d partial", len(sent), len(acked), present, partial)
		})
	}
}

func countTagged(t *testing.T, base, typ string, n int) int {
	t.Helper()
	m := getJSON(t, fmt.Sprintf("%s/%s?_tag=urn:carebridge:test:bundle|b%d&_summary=count", base, typ, n))
	total, ok := m["total"].(float64)
	if !ok {
		t.Fatalf("no total in %v", m)
	}
	return int(total)
}
