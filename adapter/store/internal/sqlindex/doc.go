// Package sqlindex is what the two SQL engines share about search: how a
// version's search index (fhir.Index) is laid out as rows, and the SQL
// fragments that run a fhir.Query over those rows (the WHERE condition, the
// keyset page condition and the ORDER BY). The engines differ here only by a
// Dialect; each owns its statements, schema and migrations, and calls these
// helpers to fill in the part that must mean the same on both.
//
// The fragments assume this schema (created by each engine's migrations),
// with the resources table aliased r in the statement that embeds them:
//
//	resources        (key, type, id, version, last_updated, deleted, current_seq)
//	search_token     (param, code, system, type, key)
//	search_reference (param, kind, value, system, type, key)
//	search_date      (param, type, low, high, key)
//	search_string    (param, type, value, key)
//
// key is the resource's creation-order key; type is the resource type, copied
// into every index row so that a lookup by parameter and value is narrowed to
// one type inside the index. last_updated, low and high are Unix microseconds.
//
// A search_reference row is one part of a fhir.ReferenceEntry, told apart by
// kind: KindLiteral (system holds the target type, value the target id),
// KindURL (value holds the URL), KindIdentifier (system and value are the
// logical reference's identifier), or KindNone for an entry with none of
// these, kept so that :missing sees it.
//
// The Viewer condition (Sees), and the audit statements, assume the tables
// named in access.go and audit.go as well.
//
// The package does no I/O and imports no driver.
package sqlindex
