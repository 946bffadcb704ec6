package fhir

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// A page token is 21 bytes in unpadded URL-safe base64 (28 characters):
//
//	byte  0      version (1)
//	bytes 1-8    PageToken.LastUpdated, big-endian two's complement
//	bytes 9-16   PageToken.Key, likewise
//	bytes 17-20  CRC-32 (IEEE) of bytes 0-16
//
// The checksum catches a token that was cut, mistyped or edited by hand; it
// is not a signature. A token only says where a page starts: the query's
// clauses, and the caller's access rules, still decide what is returned, so
// a forged token can skip results but never reveal others.
const (
	pageTokenVersion = 1
	pageTokenBytes   = 21
)

var pageTokenEncoding = base64.RawURLEncoding.Strict()

// EncodePageToken returns t as an opaque, URL-safe string for a next link's
// _page_token.
func EncodePageToken(t PageToken) string {
	var b [pageTokenBytes]byte
	b[0] = pageTokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(t.LastUpdated))
	binary.BigEndian.PutUint64(b[9:], uint64(t.Key))
	binary.BigEndian.PutUint32(b[17:], crc32.ChecksumIEEE(b[:17]))
	return pageTokenEncoding.EncodeToString(b[:])
}

// DecodePageToken returns the PageToken that EncodePageToken encoded as s.
// Anything else, including a token changed in any character, is an Invalid
// *Error.
func DecodePageToken(s string) (PageToken, error) {
	bad := func() (PageToken, error) {
		return PageToken{}, Errorf(Invalid, IssueValue, "_page_token", "the page token is not one this server issued")
	}
	if len(s) != pageTokenEncoding.EncodedLen(pageTokenBytes) {
		return bad()
	}
	var b [pageTokenBytes]byte
	n, err := pageTokenEncoding.Decode(b[:], []byte(s))
	if err != nil || n != pageTokenBytes || b[0] != pageTokenVersion ||
		binary.BigEndian.Uint32(b[17:]) != crc32.ChecksumIEEE(b[:17]) {
		return bad()
	}
	return PageToken{
		LastUpdated: int64(binary.BigEndian.Uint64(b[1:])),
		Key:         int64(binary.BigEndian.Uint64(b[9:])),
	}, nil
}
