package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

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
		R                        *Report
		Verdict, Summary, Origin string
		Sections                 []htmlSection
		Plots                    []plotView
	}{R: r, Verdict: headline(r), Summary: summary(r), Origin: origin(r)}
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
{{with .Origin}}<p>{{.}}</p>
{{end}}<p>{{.Summary}}</p>
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
