package sqlindex

import (
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// Which index table a row of an index entries query comes from.
const (
	EntryToken     = "t"
	EntryReference = "r"
)

// ScanIndexEntries reads the result of an index entries query: (id, table,
// param, kind, system, value) rows, table being EntryToken (kind empty,
// value the code) or EntryReference. It returns each id's entries.
func ScanIndexEntries(rows ResultRows) (map[string]*fhir.Index, error) {
	out := make(map[string]*fhir.Index)
	for rows.Next() {
		var id, table string
		var r ReferenceRow
		if err := rows.Scan(&id, &table, &r.Param, &r.Kind, &r.System, &r.Value); err != nil {
			return nil, err
		}
		ix := out[id]
		if ix == nil {
			ix = &fhir.Index{}
			out[id] = ix
		}
		if table == EntryToken {
			ix.Tokens = append(ix.Tokens, fhir.TokenEntry{Param: r.Param, System: r.System, Code: r.Value})
		} else if e, ok := r.Entry(); ok {
			ix.References = append(ix.References, e)
		}
	}
	return out, rows.Err()
}

// FeedPage makes a store.TaskFeedPage of the entries a feed query read with
// LIMIT q.Count+1 and of its snapshot's horizon: the cursor after
// everything that snapshot could show.
func FeedPage(entries []store.TaskFeedEntry, q store.TaskFeedQuery, horizon store.ChangeCursor) store.TaskFeedPage {
	page := store.TaskFeedPage{Entries: entries, Next: q.After}
	if len(entries) > q.Count {
		page.Entries, page.More = entries[:q.Count], true
	}
	if n := len(page.Entries); n > 0 {
		page.Next = page.Entries[n-1].At
	}
	if !page.More && page.Next.Before(horizon) {
		page.Next = horizon
	}
	return page
}

// FeedOwner is the owner key as the feed tables keep it: cut like every
// indexed value, so that no key outgrows an index entry.
func FeedOwner(owner string) string { return Clip(owner) }
