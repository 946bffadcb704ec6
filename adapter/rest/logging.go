package rest

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
)

// What the server logs, and what it never does: a request's log line names
// the route template, never the URL (queries hold NHS numbers); no line
// carries a header value (the Authorization header holds a token), a query
// or a body; 4xx diagnostics, which quote what the sender sent, are not
// logged; a panic is logged by its type and frames, not its value.

// stdLogWriter turns the lines of a standard library logger (net/http's
// ErrorLog, Echo's logger) into warnings on the server's log. A panic's
// value and goroutine dump, which net/http would print and which may hold
// whatever the handler had in hand, are withheld.
type stdLogWriter struct {
	log    *slog.Logger
	source string
}

func (w stdLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if i := strings.Index(msg, "panic serving"); i >= 0 {
		msg = msg[:i] + "panic serving a request (value and stack withheld)"
	}
	w.log.Warn(msg, "source", w.source)
	return len(p), nil
}

// panicError describes a recovered panic for the error log: a runtime error
// (a nil dereference, an index out of range) by its message, which holds
// no data, anything else only by its type; and the frames that panicked,
// without the argument values a goroutine dump would show.
func panicError(r any) error {
	what := fmt.Sprintf("a value of type %T", r)
	if re, ok := r.(runtime.Error); ok {
		what = re.Error()
	}
	pcs := make([]uintptr, 16)
	n := runtime.Callers(4, pcs) // skip Callers, panicError, the deferred func, gopanic
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "\n  %s (%s:%d)", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return fmt.Errorf("panic: %s at%s", what, b.String())
}

// Patterns of secrets and personal data that no log line may carry, as a
// last defence should an error's text quote what a sender sent: NHS
// numbers (ten digits, maybe spaced 3-3-4), JWTs and bearer credentials.
var (
	nhsNumberLike = regexp.MustCompile(`\b\d{3}[ -]?\d{3}[ -]?\d{4}\b`)
	jwtLike       = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	bearerLike    = regexp.MustCompile(`(?i)\bbearer\s+\S+`)
)

// redact blanks what the patterns find in s.
func redact(s string) string {
	s = bearerLike.ReplaceAllString(s, "[credential]")
	s = jwtLike.ReplaceAllString(s, "[token]")
	return nhsNumberLike.ReplaceAllString(s, "[number]")
}

// redactingHandler passes log records on with the message and every text
// or error attribute redacted. The server logs through one.
type redactingHandler struct{ next slog.Handler }

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = redactAttr(a)
	}
	return redactingHandler{h.next.WithAttrs(clean)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = redactAttr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, redact(err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
