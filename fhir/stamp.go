package fhir

import (
	"strconv"
	"time"
)

// Stamp sets a resource's id and the server-owned parts of its meta
// (versionId, lastUpdated) and puts resourceType, id and meta first. Everything
// else the sender wrote, including the rest of meta (profile, source, tag,
// security), is kept as written.
func Stamp(res *Value, id string, version int64, lastUpdated time.Time) {
	meta := []Member{
		{Name: "versionId", Value: String(strconv.FormatInt(version, 10))},
		{Name: "lastUpdated", Value: String(FormatInstant(lastUpdated))},
	}
	if old, ok := res.Get("meta"); ok {
		for _, m := range old.Members() {
			if m.Name != "versionId" && m.Name != "lastUpdated" {
				meta = append(meta, m)
			}
		}
	}
	rt, _ := res.Get("resourceType")
	res.SetFirst(
		Member{Name: "resourceType", Value: rt},
		Member{Name: "id", Value: String(id)},
		Member{Name: "meta", Value: Object(meta...)},
	)
}

// FormatInstant formats t as a FHIR instant in UTC with millisecond precision,
// the precision the stores keep.
func FormatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
