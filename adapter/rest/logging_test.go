package rest

import (
	"bytes"
	"log"
	"log/slog"
	"strings"
	"testing"
)

func TestServerErrorLogWithholdsPanicValues(t *testing.T) {
	var out bytes.Buffer
	l := log.New(stdLogWriter{log: slog.New(slog.NewJSONHandler(&out, nil)), source: "net/http"}, "", 0)
	l.Printf("http: panic serving 127.0.0.1:4711: %v\n%s", "NHS number 9434765919", "goroutine 7 [running]:\nmain.lookup(0x23f4b1a3f)")
	l.Printf("http: TLS handshake error from 127.0.0.1:4712: EOF")
	got := out.String()
	for _, secret := range []string{"9434765919", "goroutine", "0x23f4b1a3f"} {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds %q: %s", secret, got)
		}
	}
	for _, want := range []string{`"msg":"http: panic serving a request (value and stack withheld)"`, `"msg":"http: TLS handshake error from 127.0.0.1:4712: EOF"`, `"source":"net/http"`, `"level":"WARN"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s: %s", want, got)
		}
	}
}

func TestPanicErrorNamesRuntimeErrorsAndOnlyTheTypeOfOtherValues(t *testing.T) {
	catch := func(f func()) (err error) {
		defer func() { err = panicError(recover()) }()
		f()
		return nil
	}
	var list []int
	i := 3
	err := catch(func() { _ = list[i] })
	if got := err.Error(); !strings.Contains(got, "index out of range [3] with length 0") || !strings.Contains(got, "logging_test.go") {
		t.Errorf("runtime error panic = %q, want its message and the frame that panicked", got)
	}
	err = catch(func() { panic("NHS number 9434765919") })
	if got := err.Error(); strings.Contains(got, "9434765919") || !strings.Contains(got, "a value of type string") {
		t.Errorf("string panic = %q, want only its type", got)
	}
}
