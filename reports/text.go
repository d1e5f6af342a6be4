package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Text writes r as terminal tables: the before/after metrics, the
// migration, row verification, sessions and gates.
func Text(w io.Writer, r *Report) error {
	return render(w, r, false)
}

// Markdown writes r as GitHub-flavoured Markdown, fit for a pull
// request comment or a job summary.
func Markdown(w io.Writer, r *Report) error {
	return render(w, r, true)
}

type doc struct {
	w   io.Writer
	md  bool
	err error
}

func (d *doc) heading(s string) {
	if d.md {
		d.printf("\n### %s\n\n", s)
	} else {
		d.printf("\n%s\n", s)
	}
}

func (d *doc) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *doc) table(t table) {
	if d.err != nil {
		return
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	}
	if d.md {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	} else {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})))
	}
	if t.Wrap > 0 && !d.md {
		body := make([][]string, len(t.Body))
		for i, row := range t.Body {
			body[i] = slices.Clone(row)
			if last := len(row) - 1; last >= 0 {
				body[i][last] = wrap(row[last], t.Wrap)
			}
		}
		t.Body = body
	}
	tb := tablewriter.NewTable(d.w, opts...)
	tb.Header(t.Head)
	if err := tb.Bulk(t.Body); err != nil {
		d.err = err
		return
	}
	d.err = tb.Render()
}

// render writes r as text or, with md, as Markdown. Each section's
// content comes from sections.go; render only lays it out.
func render(w io.Writer, r *Report, md bool) error {
	d := &doc{w: w, md: md}
	if md {
		d.printf("## cutover: %s — %s\n\n", r.Scenario, headline(r))
	} else {
		d.printf("cutover: %s — %s\n", r.Scenario, headline(r))
	}
	if o := origin(r); o != "" {
		d.printf("%s\n", o)
	}
	d.printf("%s\n", summary(r))

	d.heading("Before and after")
	if st := r.Stats; st != nil {
		d.printf("%s\n\n", statsNote(*st))
	}
	d.table(metricsTable(r))
	if s := detectable(r.Metrics); s != "" {
		if !d.md {
			s = wrap(s, 100)
		}
		d.printf("\n%s\n", s)
	}
	if len(r.Calibration) > 0 {
		d.heading("A/A calibration (old side against itself)")
		d.table(calibrationTable(r.Calibration))
	}

	d.printf("\n%s\n", openModel(r.Old, r.New))
	if len(r.Operations) > 0 {
		d.heading("Latency by operation")
		d.table(operationsTable(r.Operations))
	}

	d.heading(migrationHeading(r.Migration))
	if len(r.Migration.Tables) == 0 {
		d.printf("no rows written\n")
	} else {
		d.table(migrationTable(r.Migration))
	}

	d.heading(rowsHeading(r.Verify))
	d.table(rowsTable(r.Verify))

	s := r.Sessions
	d.heading(sessionsHeading(s))
	if len(s.Mismatches) > 0 {
		d.table(mismatchesTable(s.Mismatches))
	}
	if s.Rows != nil {
		d.heading(sessionRowsHeading(s.Rows))
		if len(s.Rows.Broken) > 0 {
			d.table(sessionRowsTable(s.Rows))
		}
	}
	if len(s.Endpoints) > 0 {
		d.heading(endpointsHeading(s))
		d.table(endpointsTable(s.Endpoints))
	}
	if len(s.Expected) > 0 {
		d.heading("Expected differences between the versions")
		d.table(expectedTable(s.Expected))
	}
	if len(r.Old.Errors)+len(r.New.Errors) > 0 {
		d.heading("Request errors")
		d.table(requestErrorsTable(r.Old, r.New))
	}
	if r.Window != nil {
		d.heading(windowHeading(r.Window))
		for _, l := range windowLines(r.Window) {
			d.printf("%s\n", l)
		}
	}

	d.heading("Gates")
	d.table(gatesTable(r.Gates))
	return d.err
}

// wrap breaks s into lines of at most width columns at spaces; a word
// longer than width stays whole on its own line.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		l := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case n+1+l > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}
