// Package reports holds the report model of a cutover run and renders
// it: a terminal table, Markdown for pull requests and job summaries,
// and versioned JSON that CI scripts read.
//
// The model ([Report]) is plain data; renderers only format it. The
// JSON form is a contract: fields are added, never renamed, and
// SchemaVersion changes when a field changes meaning.
package reports
