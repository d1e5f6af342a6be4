package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/verify"
)

// HTML writes r as one self-contained HTML page: the sections of the
// text report, in its order, then the plots of [Plots], embedded as
// data URIs, so the file can be mailed or archived as a CI artifact and
// opened anywhere.
func HTML(w io.Writer, r *Report) error {
	plots, err := Plots(r)
	if err != nil {
		return fmt.Errorf("writing html report: %w", err)
	}
	return writeHTML(w, r, plots)
}

// An htmlSection is one part of the page: a heading (none when empty),
// the paragraphs before its table, the table, and the paragraphs after.
type htmlSection struct {
	Heading string
	// Sub makes the heading a subheading of the section before.
	Sub    bool
	Before []string
	Table  *htmlTable
	After  []string
}

type htmlTable struct {
	Head []string
	Rows []htmlRow
}

// An htmlRow is a table row; Class, when set, is a CSS class of the
// page: a metric's verdict, "pass" or "fail".
type htmlRow struct {
	Cells []string
	Class string
}

// htmlTableOf returns t for the page; class, when not nil, gives the
// class of row i.
func htmlTableOf(t table, class func(i int) string) *htmlTable {
	h := &htmlTable{Head: t.Head}
	for i, cells := range t.Body {
		row := htmlRow{Cells: cells}
		if class != nil {
			row.Class = class(i)
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

func failIf(bad bool) string {
	if bad {
		return "fail"
	}
	return ""
}

func writeHTML(w io.Writer, r *Report, plots []Plot) error {
	type plotView struct {
		Title string
		Src   template.URL
	}
	v := struct {
		R                *Report
		Verdict, Summary string
		Sections         []htmlSection
		Plots            []plotView
	}{R: r, Verdict: headline(r), Summary: summary(r)}
	add := func(s htmlSection) { v.Sections = append(v.Sections, s) }

	ba := htmlSection{Heading: "Before and after",
		Table: htmlTableOf(metricsTable(r), func(i int) string { return r.Metrics[i].Verdict })}
	if st := r.Stats; st != nil {
		ba.Before = []string{statsNote(*st) + "; ~ means no significant change"}
	}
	if s := detectable(r.Metrics); s != "" {
		ba.After = []string{s}
	}
	add(ba)
	if len(r.Calibration) > 0 {
		add(htmlSection{Heading: "A/A calibration (old side against itself)",
			Table: htmlTableOf(calibrationTable(r.Calibration), nil)})
	}
	add(htmlSection{Before: []string{openModel(r.Old, r.New)}})
	if len(r.Operations) > 0 {
		add(htmlSection{Heading: "Latency by operation", Table: htmlTableOf(operationsTable(r.Operations), nil)})
	}

	mig := htmlSection{Heading: migrationHeading(r.Migration)}
	if len(r.Migration.Tables) == 0 {
		mig.Before = []string{"no rows written"}
	} else {
		mig.Table = htmlTableOf(migrationTable(r.Migration), nil)
	}
	add(mig)

	vt := r.Verify.Tables
	add(htmlSection{Heading: rowsHeading(r.Verify),
		Table: htmlTableOf(rowsTable(r.Verify), func(i int) string { return failIf(vt[i].Unexpected() > 0) })})
	// The text report's notes show a table's first four differences;
	// the page lists all it holds, with the reasons of expected ones.
	for _, t := range vt {
		if len(t.Diffs) > 0 {
			add(htmlSection{Heading: "Row differences in " + t.Table, Sub: true,
				Table: htmlTableOf(diffsTable(t.Diffs), func(i int) string { return failIf(!t.Diffs[i].Expected) })})
		}
	}

	s := r.Sessions
	ses := htmlSection{Heading: sessionsHeading(s)}
	if len(s.Mismatches) > 0 {
		ses.Table = htmlTableOf(mismatchesTable(s.Mismatches), nil)
	}
	add(ses)
	if s.Rows != nil {
		sr := htmlSection{Heading: sessionRowsHeading(s.Rows)}
		if len(s.Rows.Broken) > 0 {
			sr.Table = htmlTableOf(sessionRowsTable(s.Rows), nil)
		}
		add(sr)
	}
	if len(s.Endpoints) > 0 {
		add(htmlSection{Heading: endpointsHeading(s),
			Table: htmlTableOf(endpointsTable(s.Endpoints), func(i int) string {
				return failIf(len(s.Endpoints[i].Diffs) > 0 || s.Endpoints[i].Error != "")
			})})
	}
	if len(s.Expected) > 0 {
		add(htmlSection{Heading: "Expected differences between the versions",
			Table: htmlTableOf(expectedTable(s.Expected), nil)})
	}
	if len(r.Old.Errors)+len(r.New.Errors) > 0 {
		add(htmlSection{Heading: "Request errors", Table: htmlTableOf(requestErrorsTable(r.Old, r.New), nil)})
	}
	if r.Window != nil {
		add(htmlSection{Heading: windowHeading(r.Window), Before: windowLines(r.Window)})
	}
	add(htmlSection{Heading: "Gates", Table: htmlTableOf(gatesTable(r.Gates), func(i int) string {
		return strings.ToLower(passFail(r.Gates[i].Passed))
	})})

	for _, p := range plots {
		v.Plots = append(v.Plots, plotView{Title: p.Title,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.PNG))})
	}
	if err := htmlPage.Execute(w, v); err != nil {
		return fmt.Errorf("writing html report: %w", err)
	}
	return nil
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cutover: {{.R.Scenario}} — {{.Verdict}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f3f3f3; }
tr.worse td, tr.fail td { background: #fde2e1; }
tr.better td { background: #e3f6e3; }
.verdict-pass { color: #1a7f37; } .verdict-fail { color: #cf222e; }
figure { margin: 0 0 1.5em; } img { max-width: 100%; border: 1px solid #eee; }
</style>
</head>
<body>
<h1>cutover: {{.R.Scenario}} — <span class="verdict-{{.R.Verdict}}">{{.Verdict}}</span></h1>
<p>{{.Summary}}</p>
{{range .Sections}}{{if .Heading}}{{if .Sub}}<h3>{{.Heading}}</h3>{{else}}<h2>{{.Heading}}</h2>{{end}}
{{end}}{{range .Before}}<p>{{.}}</p>
{{end}}{{with .Table}}<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr{{with .Class}} class="{{.}}"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .After}}<p>{{.}}</p>
{{end}}{{end}}{{if .Plots}}<h2>Plots</h2>
{{range .Plots}}<figure><img alt="{{.Title}}" src="{{.Src}}"><figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}</body>
</html>
`))

// The functions below build the headings, lines and tables of the text
// report. render in text.go still builds them inline; TestSharedSections
// checks that both agree, so text.go can move onto these functions
// without changing its output.

// A table is a formatted table: its header and rows of cells.
type table struct {
	Head []string
	Body [][]string
}

// headline is the verdict in capitals, with the reason a partial run
// ended.
func headline(r *Report) string {
	h := strings.ToUpper(r.Verdict)
	if r.Partial {
		h += " (partial run: " + r.Error + ")"
	}
	return h
}

func summary(r *Report) string {
	return fmt.Sprintf("%s %s → %s %s; load %.0f req/s for %.0fs (seed %d); "+
		"latency and resources from the steady state after %.0fs warm-up",
		r.Old.Kind, r.Old.Version, r.New.Kind, r.New.Version, r.Load.RatePerSec, r.Load.DurationS,
		r.Load.Seed, r.Load.WarmupS)
}

func statsNote(st compare.Options) string {
	return fmt.Sprintf("%s intervals; verdicts: Mann-Whitney U and bootstrap (latency), Welch's t on the "+
		"effective sample size (resources, CPU), "+
		"two-proportion z (errors) at α=%g with Holm's correction, minimum effect %g%%",
		pctOf(st.Confidence), st.Alpha, st.MinEffectPct)
}

func metricsTable(r *Report) table {
	t := table{Head: []string{"Metric", "Before", "After", "Change", "p", "Verdict"}}
	if len(r.Calibration) > 0 {
		t.Head = append(t.Head, "A/A noise")
	}
	for _, m := range r.Metrics {
		row := []string{label(m.Name), withCI(m.Unit, m.Before, m.BeforeCI), withCI(m.Unit, m.After, m.AfterCI),
			change(m), pValue(m.PValue), verdict(m.Verdict)}
		if len(r.Calibration) > 0 {
			row = append(row, noise(m.NoisePct))
		}
		t.Body = append(t.Body, row)
	}
	return t
}

func calibrationTable(ms []compare.Metric) table {
	t := table{Head: []string{"Metric", "Run 1", "Run 2", "Change", "Verdict"}}
	for _, m := range ms {
		t.Body = append(t.Body, []string{label(m.Name), value(m.Unit, m.Before), value(m.Unit, m.After),
			change(m), verdict(m.Verdict)})
	}
	return t
}

// openModel is the line on the requests that left late or never.
func openModel(before, after Side) string {
	return fmt.Sprintf("Open model: before %d late (max %.0fms), %d dropped; after %d late (max %.0fms), %d dropped",
		before.Late, before.MaxLatenessMS, before.Dropped, after.Late, after.MaxLatenessMS, after.Dropped)
}

func operationsTable(ops []Operation) table {
	t := table{Head: []string{"Operation", "Req before", "Req after", "P50 before", "P50 after",
		"P95 before", "P95 after", "Failed"}}
	for _, o := range ops {
		t.Body = append(t.Body, []string{o.Op, fmt.Sprint(o.Requests[0]), fmt.Sprint(o.Requests[1]),
			value("ms", o.P50MS[0]), value("ms", o.P50MS[1]), value("ms", o.P95MS[0]), value("ms", o.P95MS[1]),
			fmt.Sprintf("%d / %d", o.Failed[0], o.Failed[1])})
	}
	return t
}

func migrationHeading(m Migration) string { return fmt.Sprintf("Migration: %d ms", m.DurationMS) }

// migrationTable has no rows when the migration wrote none; the
// reports then say "no rows written".
func migrationTable(m Migration) table {
	t := table{Head: []string{"Table", "Inserted", "Updated", "Deleted"}}
	for _, w := range m.Tables {
		t.Body = append(t.Body, []string{w.Table, fmt.Sprint(w.Inserted), fmt.Sprint(w.Updated),
			fmt.Sprint(w.Deleted)})
	}
	return t
}

func rowsHeading(v Verify) string {
	return fmt.Sprintf(
		"Rows: %d compared, %d missing, %d extra, %d changed; expected: %d missing, %d extra, %d changed",
		v.RowsCompared, v.Missing, v.Extra, v.Changed, v.ExpectedMissing, v.ExpectedExtra, v.ExpectedChanged)
}

func rowsTable(v Verify) table {
	t := table{Head: []string{"Table", "Check", "Old", "New", "Missing", "Extra", "Changed", "Notes"}}
	for _, tr := range v.Tables {
		how := "count"
		if tr.Keyed {
			how = "keyed"
		}
		t.Body = append(t.Body, []string{tr.Table, how, rows(tr.RowsOld), rows(tr.RowsNew),
			keyedCount(tr.Keyed, tr.Missing), keyedCount(tr.Keyed, tr.Extra), keyedCount(tr.Keyed, tr.Changed),
			tableNotes(tr)})
	}
	return t
}

// tableNotes names a table's columns whose type changed and its first
// differences: four notes at most, then how many more there are.
func tableNotes(t verify.TableResult) string {
	var notes []string
	if len(t.Skipped) > 0 {
		notes = append(notes, "type changed: "+strings.Join(t.Skipped, ", "))
	}
	for _, df := range t.Diffs {
		n := df.Kind + " " + df.Key
		if df.Expected {
			n = "expected " + n
		}
		if len(df.Columns) > 0 {
			n += " (" + strings.Join(df.Columns, ", ") + ")"
		}
		notes = append(notes, n)
	}
	if len(notes) > 4 {
		notes = append(notes[:4], fmt.Sprintf("… %d more", len(notes)-4))
	}
	return strings.Join(notes, "; ")
}

// diffsTable lists every difference a table holds, with the reason of
// the expected ones; only the HTML page shows it.
func diffsTable(diffs []verify.Diff) table {
	t := table{Head: []string{"Key", "Kind", "Columns", "Expected"}}
	for _, df := range diffs {
		exp := "no"
		if df.Expected {
			exp = "yes: " + df.Reason
		}
		t.Body = append(t.Body, []string{df.Key, df.Kind, strings.Join(df.Columns, ", "), exp})
	}
	return t
}

func sessionsHeading(s Sessions) string {
	return fmt.Sprintf("Sessions: %d checked, %d mismatched", s.Checked, s.Mismatched)
}

func mismatchesTable(ms []verify.Mismatch) table {
	t := table{Head: []string{"Session", "Field", "Before", "After"}}
	for _, m := range ms {
		t.Body = append(t.Body, []string{m.Session, m.Field, m.Before, m.After})
	}
	return t
}

func sessionRowsHeading(rs *verify.SessionRowsResult) string {
	return fmt.Sprintf("Session rows: %d token rows checked, %d sessions broken", rs.Checked, len(rs.Broken))
}

// sessionRowsTable lists the first ten broken sessions, then how many
// more there are.
func sessionRowsTable(rs *verify.SessionRowsResult) table {
	t := table{Head: []string{"Request", "Subject", "Client", "Problems"}}
	for i, b := range rs.Broken {
		if i == 10 {
			t.Body = append(t.Body, []string{fmt.Sprintf("… %d more", len(rs.Broken)-10), "", "", ""})
			break
		}
		t.Body = append(t.Body, []string{b.RequestID, b.Subject, b.ClientID, strings.Join(b.Problems, "; ")})
	}
	return t
}

func endpointsHeading(s Sessions) string {
	return fmt.Sprintf("Read endpoints, old against new: %d flagged differences", s.EndpointDiffs)
}

// endpointsTable counts each endpoint's differences and names its first
// three flagged fields, or the error of the new server.
func endpointsTable(eps []Endpoint) table {
	t := table{Head: []string{"Endpoint", "Flagged", "Expected", "Noise", "Flagged fields"}}
	for _, ep := range eps {
		var paths []string
		for _, df := range ep.Diffs {
			paths = append(paths, df.Path)
		}
		if ep.Error != "" {
			paths = []string{"error: " + ep.Error}
		}
		if len(paths) > 3 {
			paths = append(paths[:3], fmt.Sprintf("… %d more", len(paths)-3))
		}
		t.Body = append(t.Body, []string{ep.Name, fmt.Sprint(len(ep.Diffs)), fmt.Sprint(len(ep.Expected)),
			fmt.Sprint(len(ep.Noise)), strings.Join(paths, ", ")})
	}
	return t
}

func expectedTable(xs []Expected) table {
	t := table{Head: []string{"Difference", "Reason"}}
	for _, x := range xs {
		t.Body = append(t.Body, []string{x.What, x.Reason})
	}
	return t
}

// requestErrorsTable counts each side's request errors, in the order
// of their text.
func requestErrorsTable(before, after Side) table {
	t := table{Head: []string{"Side", "Error", "Count"}}
	for _, side := range []struct {
		name string
		errs map[string]int
	}{{"before", before.Errors}, {"after", after.Errors}} {
		keys := make([]string, 0, len(side.errs))
		for k := range side.errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Body = append(t.Body, []string{side.name, k, fmt.Sprint(side.errs[k])})
		}
	}
	return t
}

func windowHeading(w *Window) string {
	return fmt.Sprintf("Write window: the old server served %.0fs after the clone (%d requests)",
		w.DurationS, w.Requests)
}

// windowLines are the lines under the write window's heading: the
// writes lost, the revocations lost, and whether replaying fixed them.
func windowLines(w *Window) []string {
	var lost []string
	for _, t := range w.LostWrites {
		if t.Rows > 0 {
			lost = append(lost, fmt.Sprintf("%s %d", t.Table, t.Rows))
		}
	}
	if len(lost) == 0 {
		lost = []string{"none"}
	}
	replayed := fmt.Sprintf("tokens cutover revoked in the window: %d; active on the new server before replay: %d",
		w.RevokedByCheck, w.ActiveBeforeReplay)
	if w.ActiveAfterReplay != nil && w.Replayed != nil {
		replayed += fmt.Sprintf("; after replaying %d sessions: %d", w.Replayed.Sessions, *w.ActiveAfterReplay)
	} else {
		replayed += "; not replayed (window.replay: false)"
	}
	return []string{
		"token rows written in the window that the new database lacks: " + strings.Join(lost, ", "),
		fmt.Sprintf("sessions revoked in the window, still active in the new database: %d", w.RevokedSessions),
		replayed,
	}
}

func gatesTable(gs []compare.Gate) table {
	t := table{Head: []string{"Result", "Gate", "Detail"}}
	for _, g := range gs {
		t.Body = append(t.Body, []string{passFail(g.Passed), g.Name, g.Detail})
	}
	return t
}
