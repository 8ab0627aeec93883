// Package search keeps the Trace the Face gallery's Meilisearch index: its
// settings as code, the public documents, and the gallery's queries.
//
// The index is derived from PostgreSQL, which stays the source of truth; this
// package does not know the store. Only public fields ever reach Meilisearch:
// a Face has no name, location, Society or internal reference, and the
// index's displayed attributes list the Face fields and nothing else.
//
// Every write is an asynchronous Meilisearch task. The package waits for each
// one and reports a task that did not succeed as an error (*TaskError), because
// the library itself returns a failed task with a nil error.
package search
