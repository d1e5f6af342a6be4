// Package reports holds the report model of a cutover run and renders
// it, one renderer per file: a terminal table (text.go), Markdown for
// pull requests and job summaries (text.go), versioned JSON that CI
// scripts read (json.go), JUnit XML with one test case per gate
// (junit.go), and a single self-contained HTML page with plots drawn by
// gonum/plot and embedded as data URIs (html.go, plots.go).
// The text, Markdown and HTML reports print the same sections; each
// section's headings, lines and table rows are built once, in
// sections.go, and the renderers only lay them out.
//
// The model ([Report]) is plain data; renderers only format it. The
// JSON form is a contract: fields are added, never renamed, and
// SchemaVersion changes when a field changes meaning. The time series
// behind the plots ([Samples]) are not part of report.json; they are
// written to samples.json beside it, which `cutover compare` reads.
package reports
