package fhir

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
)

func TestPageTokenRoundTrip(t *testing.T) {
	for _, tok := range []PageToken{
		{},
		{LastUpdated: 1749723302123000, Key: 4711},
		{Key: 1},
		{LastUpdated: -1, Key: -1},
		{LastUpdated: math.MaxInt64, Key: math.MaxInt64},
		{LastUpdated: math.MinInt64, Key: math.MinInt64},
	} {
		s := EncodePageToken(tok)
		if url.QueryEscape(s) != s {
			t.Errorf("EncodePageToken(%+v) = %q, which is not URL-safe", tok, s)
		}
		got, err := DecodePageToken(s)
		if err != nil {
			t.Errorf("DecodePageToken(EncodePageToken(%+v)): %v", tok, err)
			continue
		}
		if got != tok {
			t.Errorf("DecodePageToken(EncodePageToken(%+v)) = %+v", tok, got)
		}
	}
}

func TestPageTokenRefusesEveryChangedCharacter(t *testing.T) {
	s := EncodePageToken(PageToken{LastUpdated: 1749723302123000, Key: 4711})
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(s) {
		for _, c := range alphabet {
			if byte(c) == s[i] {
				continue
			}
			tampered := s[:i] + string(c) + s[i+1:]
			if tok, err := DecodePageToken(tampered); err == nil {
				t.Fatalf("DecodePageToken(%q), changed at %d, = %+v, want an error", tampered, i, tok)
			}
		}
	}
}

func TestPageTokenRefusesMalformedTokens(t *testing.T) {
	good := EncodePageToken(PageToken{Key: 42})
	wrongVersion := func() string {
		// A token of another version, with a valid checksum, is still refused.
		b, _ := tokenEncoding.DecodeString(good)
		b[0] = 3
		return tokenEncoding.EncodeToString(b)
	}()
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"cut short", good[:len(good)-1]},
		{"one character more", good + "A"},
		{"padded", good + "="},
		{"standard base64 characters", strings.NewReplacer("-", "+", "_", "/").Replace(EncodePageToken(PageToken{LastUpdated: -1, Key: -1}))},
		{"another version", wrongVersion},
		{"white space", " " + good[1:]},
		{"not base64", strings.Repeat("!", len(good))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePageToken(tc.token)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("DecodePageToken(%q): err = %v, want an Invalid *Error", tc.token, err)
			}
		})
	}
}

func TestChangeCursorRoundTripAndIsNoPageToken(t *testing.T) {
	for _, c := range [][2]uint64{{0, 0}, {0, 4711}, {1 << 40, 3}, {math.MaxUint64, math.MaxUint64}} {
		s := EncodeChangeCursor(c[0], c[1])
		if url.QueryEscape(s) != s {
			t.Errorf("EncodeChangeCursor(%v) = %q, which is not URL-safe", c, s)
		}
		a, b, err := DecodeChangeCursor("cursor", s)
		if err != nil || a != c[0] || b != c[1] {
			t.Errorf("DecodeChangeCursor(EncodeChangeCursor(%v)) = %d, %d, %v", c, a, b, err)
		}
		if _, err := DecodePageToken(s); err == nil {
			t.Errorf("a change cursor %q decodes as a page token", s)
		}
	}
	tok := EncodePageToken(PageToken{LastUpdated: 1, Key: 2})
	for _, s := range []string{tok, "", "abc", EncodeChangeCursor(1, 2)[1:]} {
		_, _, err := DecodeChangeCursor("cursor", s)
		if fe, ok := errors.AsType[*Error](err); !ok || fe.Kind != Invalid || fe.Issues[0].Expression != "cursor" {
			t.Errorf("DecodeChangeCursor(%q) = %v, want an Invalid error about cursor", s, err)
		}
	}
}
