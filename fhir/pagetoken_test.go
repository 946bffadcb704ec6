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
		b, _ := pageTokenEncoding.DecodeString(good)
		b[0] = 2
		return pageTokenEncoding.EncodeToString(b)
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
