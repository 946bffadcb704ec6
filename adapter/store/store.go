// Package store defines the persistence contract of CareBridge: one interface,
// implemented by the SQLite engine (store/sqlite, the embedded default) and the
// PostgreSQL engine (store/postgres, for many gateways on one database), and
// checked by one contract suite (store/storetest) that both must pass.
//
// A store executes; it does not decide. Version numbers, ids, bodies and
// search index rows are computed by the Gateway and handed to Tx.Put; the
// store persists them atomically and answers reads and searches. Errors that
// leave a store are *fhir.Error values (NotFound, Gone, Conflict...), never
// driver errors.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/carebridge/carebridge/fhir"
)

// Resource is one stored version of a resource.
type Resource struct {
	Type        string
	ID          string
	VersionID   int64
	LastUpdated time.Time // millisecond precision, UTC
	Method      string    // the interaction that made this version: "POST", "PUT" or "DELETE"
	Deleted     bool      // a delete tombstone: Body is nil
	Seq         int64     // the change sequence number of this version (see Store)
	Key         int64     // the resource's creation-order key; the same for every version
	Body        []byte    // the resource's JSON, as stored; nil for tombstones
}

// Write is one new version to commit.
type Write struct {
	Type        string
	ID          string
	VersionID   int64 // 1 for a create; the current version + 1 otherwise
	LastUpdated time.Time
	Method      string
	Deleted     bool
	Body        []byte      // nil when Deleted
	Index       *fhir.Index // the search index of this version; nil when Deleted
	// Grants are the ODS codes of the organisations that may see this
	// resource whatever person it is about (its writer; a Task's owner and
	// requester). Put replaces the resource's grants with them; a delete
	// leaves none.
	Grants []string
}

// Check refuses a Write its caller should never have built.
func (w *Write) Check() error {
	switch {
	case w.Type == "" || w.ID == "":
		return fhir.Wrap(errors.New("store: a write needs a type and an id"), "put")
	case w.VersionID < 1:
		return fhir.Wrap(errors.New("store: version numbers start at 1"), "put")
	case !w.Deleted && w.Body == nil:
		return fhir.Wrap(errors.New("store: a version that is not a delete needs a body"), "put")
	}
	return nil
}

// Current is what a Tx knows of a resource's current version without reading
// its body.
type Current struct {
	VersionID   int64
	LastUpdated time.Time
	Deleted     bool
}

// SearchResult is one page of a search.
type SearchResult struct {
	Resources []Resource      // current versions, in the query's order
	Total     int             // matches across all pages; -1 unless the query asked for it
	Next      *fhir.PageToken // where the next page starts; nil on the last page
}

// HistoryQuery selects versions for _history: of one resource (Type and ID),
// of one type (Type), newest first.
type HistoryQuery struct {
	Type   string
	ID     string    // "" for type-level history
	Since  time.Time // zero for all; otherwise versions with LastUpdated >= Since
	Count  int
	Before int64 // page token: only versions with Seq < Before; 0 for the first page
	// Viewer, when set, keeps only versions of resources it may see now.
	Viewer *Viewer
}

// HistoryResult is one page of history.
type HistoryResult struct {
	Versions []Resource // newest first
	Total    int        // versions matching, across all pages
	Next     int64      // the Before of the next page; 0 on the last page
}

// Store persists FHIR resources, their versions and search index.
//
// Every committed version gets a change sequence number (Resource.Seq): they
// are unique, increase with every version committed, and a version's Seq is
// greater than that of every version committed before its transaction began.
// The Task polling cursor is built on it.
//
// All methods are safe for concurrent use.
type Store interface {
	// Read returns the current version of a resource. It fails with
	// fhir.NotFound when the resource never existed, and fhir.Gone (with the
	// tombstone as the Resource) when its current version is a delete.
	Read(ctx context.Context, typ, id string) (Resource, error)
	// VRead returns one version; fhir.NotFound when it does not exist. A
	// tombstone version is returned with Deleted set and no error.
	VRead(ctx context.Context, typ, id string, version int64) (Resource, error)
	// History returns versions newest first, paged.
	History(ctx context.Context, q HistoryQuery) (HistoryResult, error)
	// Search returns current, undeleted resources matching q that v may
	// see (all of them when v is nil); the total, counts and pages only
	// ever count what v may see.
	Search(ctx context.Context, q *fhir.Query, v *Viewer) (SearchResult, error)
	// Visible reports whether v may see the resource (which need not
	// exist: then false).
	Visible(ctx context.Context, typ, id string, v Viewer) (bool, error)
	// PersonOrgs returns the organisations that may see a person, in (ODS,
	// Reason) order.
	PersonOrgs(ctx context.Context, nhsNumber string) ([]PersonOrg, error)
	// UseNonce records key as used until until, and reports whether it was
	// new: false when it was recorded before and until has not yet passed.
	// Many gateways on one database agree (it is how a client assertion's
	// jti is used once). Expired keys are forgotten.
	UseNonce(ctx context.Context, key string, until time.Time) (bool, error)
	// AddAudit stores audit records in a transaction of its own.
	AddAudit(ctx context.Context, records []AuditRecord) error
	// Audit returns the audit records q selects, oldest first.
	Audit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// Transact runs fn in one write transaction and commits when fn returns
	// nil. Everything fn writes becomes visible at once, or not at all. When
	// the transaction loses a race it cannot win by waiting (a concurrent
	// writer committed the same version first, a serialization failure),
	// Transact rolls back and runs fn again, a bounded number of times, so fn
	// must not keep state between calls. An error from fn is returned as is.
	Transact(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// ProjectionsOfPerson returns the committed projection rows about a
	// person, in (Type, ID) order: what the person's shared-care record is
	// assembled from.
	ProjectionsOfPerson(ctx context.Context, nhsNumber string) ([]Projection, error)
	// UnmappedReport counts the unmapped items of current resources, grouped
	// by profile, kind, system and code, most frequent first.
	UnmappedReport(ctx context.Context) ([]UnmappedCount, error)
	// ProjectionsOfPeople is ProjectionsOfPerson for several people at
	// once: their committed rows in (Person, Type, ID) order.
	ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]Projection, error)
	// People returns, in ascending order, up to limit NHS numbers greater
	// than after that have projection rows or health check Tasks: the people
	// a full reconciliation visits.
	People(ctx context.Context, after string, limit int) ([]string, error)
	// CountPeople counts the people People pages through.
	CountPeople(ctx context.Context) (int, error)
	// CheckTasks is Tx.CheckTasks on the committed state.
	CheckTasks(ctx context.Context, nhsNumbers []string) ([]CheckTask, error)
	// ScanCurrent returns up to limit current, undeleted resources with a key
	// greater than afterKey, in key order, for rebuilding projections.
	ScanCurrent(ctx context.Context, afterKey int64, limit int) ([]Resource, error)
	// TaskFeed returns a page of the Task change feed (see TaskFeedQuery).
	TaskFeed(ctx context.Context, q TaskFeedQuery) (TaskFeedPage, error)
	// Outbox is the Subscription notification outbox (see OutboxEntry).
	Outbox

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Tx is a write transaction. Its reads see its own writes.
type Tx interface {
	// Current returns the current version of each named resource that exists
	// (deleted ones included, with Deleted set); absent ids are not in the map.
	Current(ctx context.Context, typ string, ids []string) (map[string]Current, error)
	// Read is Store.Read inside the transaction.
	Read(ctx context.Context, typ, id string) (Resource, error)
	// Search is Store.Search inside the transaction.
	Search(ctx context.Context, q *fhir.Query, v *Viewer) (SearchResult, error)
	// Visible is Store.Visible inside the transaction.
	Visible(ctx context.Context, typ, id string, v Viewer) (bool, error)
	// Lock takes a lock on each key until the transaction ends, so that
	// concurrent work on the same key runs one after the other. Keys are
	// locked in a fixed order, so two transactions locking the same keys
	// cannot deadlock on them.
	Lock(ctx context.Context, keys ...string) error
	// Put stores new versions and replaces their resources' search index.
	// A Write whose VersionID is not exactly one more than the current
	// version (or 1 for a new resource) fails with ErrVersionRace.
	Put(ctx context.Context, writes []Write) error

	// PutProjections replaces the shared-care projection rows of the named
	// resources (by Type and ID), with their unmapped items. A row whose
	// Facts is nil removes the resource's row and unmapped items.
	PutProjections(ctx context.Context, rows []Projection) error
	// Projection returns a resource's projection row, or false.
	Projection(ctx context.Context, typ, id string) (Projection, bool, error)
	// ProjectionsOfPerson returns every projection row about a person, in
	// (Type, ID) order.
	ProjectionsOfPerson(ctx context.Context, nhsNumber string) ([]Projection, error)
	// ProjectionsReferencing returns the rows whose resource references
	// Patient/patientID literally and that are about person or about no
	// one, in (Type, ID) order. Given the Patient's NHS number before a
	// change, these are the rows that must follow the change: those mapped
	// to the person through that Patient, and those still waiting for a
	// person. (A row about someone else named its person another way.)
	ProjectionsReferencing(ctx context.Context, patientID, person string) ([]Projection, error)
	// ProjectionsOfPeople is ProjectionsOfPerson for several people at
	// once: their rows in (Person, Type, ID) order.
	ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]Projection, error)
	// ClearProjections removes every projection row and unmapped item,
	// before a rebuild.
	ClearProjections(ctx context.Context) error

	// CheckTasks returns the health check Tasks raised for the people, in
	// (Person, Key) order.
	CheckTasks(ctx context.Context, nhsNumbers []string) ([]CheckTask, error)
	// PutCheckTasks inserts the Tasks, or replaces those whose Key is
	// known.
	PutCheckTasks(ctx context.Context, tasks []CheckTask) error

	// IndexEntries returns the token and reference entries under params
	// in the search index of the current versions of the named resources
	// of typ: what the index says of the versions that the next Put of
	// them replaces. Resources that do not exist or are deleted are not in
	// the map. A reference with several parts comes back as one entry per
	// part; values are as the index keeps them (cut at 1024 bytes).
	IndexEntries(ctx context.Context, typ string, ids []string, params []string) (map[string]*fhir.Index, error)
	// PutTaskFeed adds rows to the Task change feed, for Task versions
	// that Put stored earlier in the same transaction. The rows become
	// visible to Store.TaskFeed when the transaction commits.
	PutTaskFeed(ctx context.Context, rows []TaskFeedRow) error

	// PutPersonOrgs replaces, for each of people, the organisations that
	// may see the person for every reason but ReasonSent with those grants
	// names for that person; ReasonSent grants are added and kept. Grants
	// about a person not in people are refused.
	PutPersonOrgs(ctx context.Context, people []string, grants []PersonOrg) error
	// AddAudit stores audit records with the transaction's change.
	AddAudit(ctx context.Context, records []AuditRecord) error

	// OutboxTx writes the notification outbox in the transaction.
	OutboxTx
}

// Viewer is an organisation reading: it sees a resource when the resource
// grants it (Write.Grants), or, when ByPerson, when the resource's
// projection row is about a person the organisation may see (PersonOrgs).
// The Gateway decides who sees what; the store applies it in SQL, so
// totals, counts and pages never include what the Viewer may not see.
type Viewer struct {
	ODS      string
	ByPerson bool
}

// Why an organisation may see a person.
const (
	ReasonRegistered = "registered" // the person's registered GP practice
	ReasonEpisode    = "episode"    // a trust holding an episode of care
	ReasonReferral   = "referral"   // an organisation referring or referred to
	ReasonCarePlan   = "careplan"   // an owner of the person's care plan
	ReasonSent       = "sent"       // a trust that sent data about the person; never taken back
)

// PersonOrg is one organisation that may see one person, and why.
type PersonOrg struct {
	Person string // NHS number
	ODS    string
	Reason string
}

// AuditRecord is one audited access: who (client and organisation), what
// (action, type, id), about whom (person) and how it ended. Body is the
// AuditEvent resource the Gateway rendered, served as stored.
type AuditRecord struct {
	ID       string    // the AuditEvent's id (a UUID)
	Recorded time.Time // millisecond precision, UTC
	Client   string    // the client id
	ODS      string    // the client's organisation
	Action   string    // C, R, U, D or E (FHIR AuditEvent.action)
	Type     string    // the resource type touched; "" for none
	Resource string    // the resource id touched; "" for a search
	Person   string    // the NHS number of the person touched; "" when none or many
	Outcome  string    // 0 success, 4 minor failure, 8 serious failure, 12 major failure
	Body     []byte
}

// AuditQuery selects audit records, oldest first. Empty fields select all.
type AuditQuery struct {
	Client, ODS, Person, Type, Resource, Action, Outcome string
	From, To                                             time.Time // Recorded in [From, To); zero for open
	After                                                int64     // page token: only records after this position
	Count                                                int       // at most this many; at least 1
}

// AuditPage is one page of audit records.
type AuditPage struct {
	Records []AuditRecord
	Next    int64 // the After of the next page; 0 on the last page
}

// TaskFeedRow is one row of the Task change feed: a Task version as one of
// its owners sees it. The Gateway decides which rows a version gets; the
// store orders them by commit.
type TaskFeedRow struct {
	Owner     string // the owner key: "system|value" or "Type/id"
	ID        string // the Task's id
	VersionID int64
	Status    string // the version's status; for a delete, the status of the version it deletes
}

// ChangeCursor is a position in the Task change feed: rows are ordered by
// (Txid, Seq). On SQLite, whose writers are serialised, Txid is 0 and Seq,
// the version's change sequence number, is in commit order. On PostgreSQL
// Txid is the writing transaction's id (pg_current_xact_id) and Seq the
// version's seq. The zero cursor is before every row.
type ChangeCursor struct {
	Txid uint64
	Seq  int64
}

// Before reports whether c comes before d in the feed.
func (c ChangeCursor) Before(d ChangeCursor) bool {
	return c.Txid < d.Txid || c.Txid == d.Txid && c.Seq < d.Seq
}

// TaskFeedQuery asks for the rows of one owner after a cursor.
type TaskFeedQuery struct {
	Owner    string
	Statuses []string // only rows with one of these statuses; all when empty
	After    ChangeCursor
	Count    int // at most this many rows; at least 1
}

// Check refuses a query its caller should never have built.
func (q TaskFeedQuery) Check() error {
	if q.Owner == "" || q.Count < 1 {
		return fhir.Wrap(errors.New("store: a Task feed query needs an owner and a count"), "task feed")
	}
	return nil
}

// TaskFeedEntry is one row of the feed with its version.
type TaskFeedEntry struct {
	Version Resource // the Task version; Body is nil for a delete
	Status  string
	At      ChangeCursor
}

// TaskFeedPage is one page of the feed. Its rows are the owner's committed
// rows after the query's cursor, in (Txid, Seq) order, and every such row
// that commits later comes after Next: a reader that always continues from
// Next sees every row exactly once, whatever order transactions commit in.
// On PostgreSQL a page only holds rows of transactions older than every
// transaction still running when it was read, so a long-running write
// transaction holds the feed back (it never loses a row).
type TaskFeedPage struct {
	Entries []TaskFeedEntry
	// Next is where the next page starts: after the last entry when More,
	// otherwise after everything the page's snapshot could show, matching
	// or not, so that rows the query skipped are not read again.
	Next ChangeCursor
	More bool // more rows were there than Count
}

// CheckTask links a Task the gateway raised for the annual health check to
// its idempotency key, so that reconciliation never raises a second Task for
// one key.
type CheckTask struct {
	Key    string // the idempotency key (healthcheck.Task.Key)
	Person string // the NHS number the Task is about
	TaskID string // the stored Task's id
	// Open says the gateway has not closed the Task. Its owner may have
	// since: the stored Task has the truth.
	Open bool
}

// Projection is one resource's row in the shared-care projection: what its
// mapping profile read from its current version.
type Projection struct {
	Type       string
	ID         string
	VersionID  int64
	Person     string // the NHS number the resource is about; "" when unknown
	Org        string // the ODS code of an Organization; "" otherwise
	PatientRef string // the Patient id the resource references literally; "" when none
	Profile    string // the mapping profile that read it
	Facts      []byte // the facts, JSON; nil to remove the row
	Unmapped   []Unmapped
}

// Unmapped is one thing a profile could not map in a resource.
type Unmapped struct {
	What       string // code | unit | identifier | reference
	System     string
	Code       string
	Expression string
	Reason     string
}

// UnmappedCount is one line of the unmapped report.
type UnmappedCount struct {
	Profile string
	What    string
	System  string
	Code    string
	Count   int // resources
}

// ErrVersionRace is returned by Tx.Put when a version was not the successor of
// the current one, because another transaction committed first. Transact
// retries fn when it sees it.
var ErrVersionRace = errors.New("store: a concurrent write changed the resource first")

// MaxTransactAttempts bounds how often Transact runs fn.
const MaxTransactAttempts = 8

// The Subscription notification outbox. A notification is written in the
// transaction of the change it is about, and delivered after the commit by
// whichever gateway claims it first; it stays in the outbox, with its
// attempts, until it is delivered or given up (dead), so nothing is lost
// when a gateway stops or dies.

// OutboxState is where a notification is in its life.
type OutboxState string

// The states of a notification.
const (
	OutboxPending   OutboxState = "pending"   // to deliver, from NextAttempt on
	OutboxDelivered OutboxState = "delivered" // the endpoint accepted it
	OutboxDead      OutboxState = "dead"      // given up: on the dead-letter list until redriven
)

// OutboxEntry is one notification: a new version of a resource that a
// Subscription's criteria matched.
type OutboxEntry struct {
	ID                  string // the notification id (a UUID), stable for the entry's life
	Subscription        string // the Subscription's id
	SubscriptionVersion int64  // the version whose criteria matched
	Type                string // the resource's type, id and version
	ResourceID          string
	ResourceVersion     int64
	Created             time.Time // when the change was written
	State               OutboxState
	Attempts            int       // delivery attempts made
	NextAttempt         time.Time // a pending entry is due from then on
	LastError           string    // why the last attempt failed; "" when none did
	Delivered           time.Time // when the endpoint accepted it; zero unless delivered
	LeaseHolder         string    // who claimed it last; "" when never claimed
	LeaseUntil          time.Time // the claim holds until then
}

// OutboxAttempt is the outcome of one delivery attempt, to record.
type OutboxAttempt struct {
	ID     string
	Holder string      // the lease holder that made the attempt
	State  OutboxState // Delivered; Pending to try again at NextAttempt; Dead to give up
	At     time.Time   // when the attempt ended
	// NextAttempt is when a Pending entry is due again.
	NextAttempt time.Time
	Error       string // why the attempt failed; "" when delivered
}

// OutboxQuery selects notifications to list, in ID order.
type OutboxQuery struct {
	State        OutboxState // "" for every state
	Subscription string      // "" for every Subscription
	After        string      // only IDs greater than After: the page token
	Count        int         // at most this many
}

// OutboxSelection names dead notifications to deliver again: those with
// the IDs, those of the Subscription, or (All) every one.
type OutboxSelection struct {
	IDs          []string
	Subscription string
	All          bool
}

// Outbox reads and claims the notification outbox outside transactions.
type Outbox interface {
	// ClaimOutbox leases up to limit pending entries due at now (NextAttempt
	// <= now) and not leased by anyone (LeaseUntil <= now) to holder until
	// until, and returns them in (NextAttempt, ID) order. Two calls, from
	// any number of processes on the same database, never claim one entry
	// while its lease lasts.
	ClaimOutbox(ctx context.Context, holder string, now, until time.Time, limit int) ([]OutboxEntry, error)
	// ListOutbox returns the entries q selects, in ID order.
	ListOutbox(ctx context.Context, q OutboxQuery) ([]OutboxEntry, error)
	// CountOutbox counts the pending and the dead entries.
	CountOutbox(ctx context.Context) (map[OutboxState]int, error)
	// PruneOutbox deletes up to limit entries delivered before before, and
	// returns how many it deleted.
	PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error)
}

// OutboxTx writes the notification outbox inside a transaction.
type OutboxTx interface {
	// Subscriptions returns the current version of every Subscription
	// that is not deleted, in id order. Every write asks, so it is one
	// cheap statement.
	Subscriptions(ctx context.Context) ([]Resource, error)
	// AddOutbox inserts new entries. An ID already in the outbox fails with
	// fhir.Conflict.
	AddOutbox(ctx context.Context, entries []OutboxEntry) error
	// RecordAttempt records an attempt on a pending entry that a.Holder
	// has claimed: one more attempt, the new state, NextAttempt and Error
	// (Delivered set to a.At when delivered), and the lease released. It
	// reports false and changes nothing when the entry is not pending or
	// a.Holder no longer holds it (its lease expired and another holder
	// claimed it).
	RecordAttempt(ctx context.Context, a OutboxAttempt) (bool, error)
	// Redrive makes the dead entries sel names pending again, due at now,
	// with no attempts, their last error kept; it returns the entries it
	// changed, as they now are, in ID order.
	Redrive(ctx context.Context, sel OutboxSelection, now time.Time) ([]OutboxEntry, error)
}
