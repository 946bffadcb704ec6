package fhir

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// Page tokens and change cursors are 21 bytes in unpadded URL-safe base64
// (28 characters):
//
//	byte  0      kind: 1 a page token, 2 a change cursor
//	bytes 1-8    the first number, big-endian (PageToken.LastUpdated, two's complement)
//	bytes 9-16   the second number, likewise (PageToken.Key)
//	bytes 17-20  CRC-32 (IEEE) of bytes 0-16
//
// The checksum catches a token that was cut, mistyped or edited by hand; it
// is not a signature. A token only says where a page starts: the query's
// clauses, and the caller's access rules, still decide what is returned, so
// a forged token can skip results but never reveal others. The kind byte
// keeps a page token from passing as a cursor, and the other way round.
const (
	pageTokenKind    = 1
	changeCursorKind = 2
	tokenBytes       = 21
)

var tokenEncoding = base64.RawURLEncoding.Strict()

func encodeToken(kind byte, a, b uint64) string {
	var t [tokenBytes]byte
	t[0] = kind
	binary.BigEndian.PutUint64(t[1:], a)
	binary.BigEndian.PutUint64(t[9:], b)
	binary.BigEndian.PutUint32(t[17:], crc32.ChecksumIEEE(t[:17]))
	return tokenEncoding.EncodeToString(t[:])
}

func decodeToken(kind byte, s string) (a, b uint64, ok bool) {
	if len(s) != tokenEncoding.EncodedLen(tokenBytes) {
		return 0, 0, false
	}
	var t [tokenBytes]byte
	n, err := tokenEncoding.Decode(t[:], []byte(s))
	if err != nil || n != tokenBytes || t[0] != kind ||
		binary.BigEndian.Uint32(t[17:]) != crc32.ChecksumIEEE(t[:17]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(t[1:]), binary.BigEndian.Uint64(t[9:]), true
}

// EncodePageToken returns t as an opaque, URL-safe string for a next link's
// _page_token.
func EncodePageToken(t PageToken) string {
	return encodeToken(pageTokenKind, uint64(t.LastUpdated), uint64(t.Key))
}

// DecodePageToken returns the PageToken that EncodePageToken encoded as s.
// Anything else, including a token changed in any character, is an Invalid
// *Error.
func DecodePageToken(s string) (PageToken, error) {
	a, b, ok := decodeToken(pageTokenKind, s)
	if !ok {
		return PageToken{}, Errorf(Invalid, IssueValue, "_page_token", "the page token is not one this server issued")
	}
	return PageToken{LastUpdated: int64(a), Key: int64(b)}, nil
}

// EncodeChangeCursor returns a position in a change feed, two numbers whose
// meaning belongs to the store, as an opaque, URL-safe string.
func EncodeChangeCursor(a, b uint64) string { return encodeToken(changeCursorKind, a, b) }

// DecodeChangeCursor returns the numbers that EncodeChangeCursor encoded as
// s. Anything else is an Invalid *Error about the parameter param.
func DecodeChangeCursor(param, s string) (a, b uint64, err error) {
	a, b, ok := decodeToken(changeCursorKind, s)
	if !ok {
		return 0, 0, Errorf(Invalid, IssueValue, param, "the cursor is not one this server issued; send the one from the last next link, or none to start from the beginning")
	}
	return a, b, nil
}
