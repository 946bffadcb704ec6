package fhir

import (
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// BundleOut is a Bundle the server writes: a searchset, a history, or the
// response to a transaction or batch. Resources are stored JSON and are
// copied into the output byte for byte.
type BundleOut struct {
	Type    string // searchset, history, transaction-response, batch-response
	Total   int    // Bundle.total; negative to leave it out
	Links   []Link
	Entries []EntryOut
}

// Link is a Bundle.link.
type Link struct {
	Relation string
	URL      string
}

// EntryOut is a Bundle.entry the server writes.
type EntryOut struct {
	FullURL    string
	Resource   []byte // compact JSON; nil for none
	SearchMode string // searchset only: "match" or "outcome"
	Request    *EntryRequest
	Response   *EntryResponse
}

// EntryRequest is Bundle.entry.request, used in history Bundles.
type EntryRequest struct {
	Method string
	URL    string
}

// EntryResponse is Bundle.entry.response.
type EntryResponse struct {
	Status       string // "201 Created"
	Location     string
	Etag         string
	LastModified time.Time // zero to leave it out
	Outcome      []byte    // an OperationOutcome's JSON; nil for none
}

// Encode returns the Bundle's compact JSON.
func (b *BundleOut) Encode() []byte {
	size := 128
	for _, e := range b.Entries {
		size += len(e.Resource) + len(e.FullURL) + 160
	}
	w := make([]byte, 0, size)
	w = append(w, `{"resourceType":"Bundle","type":`...)
	w = appendString(w, b.Type)
	if b.Total >= 0 {
		w = append(w, `,"total":`...)
		w = strconv.AppendInt(w, int64(b.Total), 10)
	}
	if len(b.Links) > 0 {
		w = append(w, `,"link":[`...)
		for i, l := range b.Links {
			if i > 0 {
				w = append(w, ',')
			}
			w = append(w, `{"relation":`...)
			w = appendString(w, l.Relation)
			w = append(w, `,"url":`...)
			w = appendString(w, l.URL)
			w = append(w, '}')
		}
		w = append(w, ']')
	}
	if len(b.Entries) > 0 {
		w = append(w, `,"entry":[`...)
		for i := range b.Entries {
			if i > 0 {
				w = append(w, ',')
			}
			w = b.Entries[i].appendJSON(w)
		}
		w = append(w, ']')
	}
	return append(w, '}')
}

func (e *EntryOut) appendJSON(w []byte) []byte {
	w = append(w, '{')
	sep := false
	field := func(name string) {
		if sep {
			w = append(w, ',')
		}
		sep = true
		w = append(w, '"')
		w = append(w, name...)
		w = append(w, `":`...)
	}
	if e.FullURL != "" {
		field("fullUrl")
		w = appendString(w, e.FullURL)
	}
	if e.Resource != nil {
		field("resource")
		w = append(w, e.Resource...)
	}
	if e.SearchMode != "" {
		field("search")
		w = append(w, `{"mode":`...)
		w = appendString(w, e.SearchMode)
		w = append(w, '}')
	}
	if r := e.Request; r != nil {
		field("request")
		w = append(w, `{"method":`...)
		w = appendString(w, r.Method)
		w = append(w, `,"url":`...)
		w = appendString(w, r.URL)
		w = append(w, '}')
	}
	if r := e.Response; r != nil {
		field("response")
		w = append(w, `{"status":`...)
		w = appendString(w, r.Status)
		if r.Location != "" {
			w = append(w, `,"location":`...)
			w = appendString(w, r.Location)
		}
		if r.Etag != "" {
			w = append(w, `,"etag":`...)
			w = appendString(w, r.Etag)
		}
		if !r.LastModified.IsZero() {
			w = append(w, `,"lastModified":`...)
			w = appendString(w, FormatInstant(r.LastModified))
		}
		if r.Outcome != nil {
			w = append(w, `,"outcome":`...)
			w = append(w, r.Outcome...)
		}
		w = append(w, '}')
	}
	return append(w, '}')
}

func appendString(w []byte, s string) []byte {
	out, err := jsontext.AppendQuote(w, s)
	if err != nil {
		return strconv.AppendQuote(w, s)
	}
	return out
}

// ETag returns the weak entity tag of a version: W/"3".
func ETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// ParseETag reads a version from an If-Match value: W/"3", "3" or 3.
func ParseETag(s string) (int64, bool) {
	if len(s) > 2 && (s[:2] == "W/" || s[:2] == "w/") {
		s = s[2:]
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}
