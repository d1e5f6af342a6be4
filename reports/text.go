package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"

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

func (d *doc) table(header []string, body [][]string) {
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
	t := tablewriter.NewTable(d.w, opts...)
	t.Header(header)
	if err := t.Bulk(body); err != nil {
		d.err = err
		return
	}
	d.err = t.Render()
}

func render(w io.Writer, r *Report, md bool) error {
	d := &doc{w: w, md: md}
	head := strings.ToUpper(r.Verdict)
	if r.Partial {
		head += " (partial run: " + r.Error + ")"
	}
	if md {
		d.printf("## cutover: %s — %s\n\n", r.Scenario, head)
	} else {
		d.printf("cutover: %s — %s\n", r.Scenario, head)
	}
	d.printf("%s %s → %s %s; load %.0f req/s for %.0fs (seed %d); "+
		"latency and resources from the steady state after %.0fs warm-up\n",
		r.Old.Kind, r.Old.Version, r.New.Kind, r.New.Version, r.Load.RatePerSec, r.Load.DurationS,
		r.Load.Seed, r.Load.WarmupS)

	d.heading("Before and after")
	if st := r.Stats; st != nil {
		d.printf("%s intervals; verdicts: Mann-Whitney U and bootstrap (latency), Welch's t on the "+
			"effective sample size (resources, CPU), "+
			"two-proportion z (errors) at α=%g with Holm's correction, minimum effect %g%%\n\n",
			pctOf(st.Confidence), st.Alpha, st.MinEffectPct)
	}
	header := []string{"Metric", "Before", "After", "Change", "p", "Verdict"}
	if len(r.Calibration) > 0 {
		header = append(header, "A/A noise")
	}
	var body [][]string
	for _, m := range r.Metrics {
		row := []string{label(m.Name), withCI(m.Unit, m.Before, m.BeforeCI), withCI(m.Unit, m.After, m.AfterCI),
			change(m), pValue(m.PValue), verdict(m.Verdict)}
		if len(r.Calibration) > 0 {
			row = append(row, noise(m.NoisePct))
		}
		body = append(body, row)
	}
	d.table(header, body)
	if s := detectable(r.Metrics); s != "" {
		d.printf("\n%s\n", s)
	}

	if len(r.Calibration) > 0 {
		d.heading("A/A calibration (old side against itself)")
		body = nil
		for _, m := range r.Calibration {
			body = append(body, []string{label(m.Name), value(m.Unit, m.Before), value(m.Unit, m.After),
				change(m), verdict(m.Verdict)})
		}
		d.table([]string{"Metric", "Run 1", "Run 2", "Change", "Verdict"}, body)
	}

	d.printf("\nOpen model: before %d late (max %.0fms), %d dropped; after %d late (max %.0fms), %d dropped\n",
		r.Old.Late, r.Old.MaxLatenessMS, r.Old.Dropped, r.New.Late, r.New.MaxLatenessMS, r.New.Dropped)

	if len(r.Operations) > 0 {
		d.heading("Latency by operation")
		body = nil
		for _, o := range r.Operations {
			body = append(body, []string{o.Op, fmt.Sprint(o.Requests[0]), fmt.Sprint(o.Requests[1]),
				value("ms", o.P50MS[0]), value("ms", o.P50MS[1]), value("ms", o.P95MS[0]), value("ms", o.P95MS[1]),
				fmt.Sprintf("%d / %d", o.Failed[0], o.Failed[1])})
		}
		d.table([]string{"Operation", "Req before", "Req after", "P50 before", "P50 after",
			"P95 before", "P95 after", "Failed"}, body)
	}

	d.heading(fmt.Sprintf("Migration: %d ms", r.Migration.DurationMS))
	body = nil
	for _, t := range r.Migration.Tables {
		body = append(body, []string{t.Table, fmt.Sprint(t.Inserted), fmt.Sprint(t.Updated), fmt.Sprint(t.Deleted)})
	}
	if len(body) == 0 {
		d.printf("no rows written\n")
	} else {
		d.table([]string{"Table", "Inserted", "Updated", "Deleted"}, body)
	}

	v := r.Verify
	d.heading(fmt.Sprintf(
		"Rows: %d compared, %d missing, %d extra, %d changed; expected: %d missing, %d extra, %d changed",
		v.RowsCompared, v.Missing, v.Extra, v.Changed, v.ExpectedMissing, v.ExpectedExtra, v.ExpectedChanged))
	body = nil
	for _, t := range v.Tables {
		how := "count"
		if t.Keyed {
			how = "keyed"
		}
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
		body = append(body, []string{t.Table, how, rows(t.RowsOld), rows(t.RowsNew),
			keyedCount(t.Keyed, t.Missing), keyedCount(t.Keyed, t.Extra), keyedCount(t.Keyed, t.Changed),
			strings.Join(notes, "; ")})
	}
	d.table([]string{"Table", "Check", "Old", "New", "Missing", "Extra", "Changed", "Notes"}, body)

	s := r.Sessions
	d.heading(fmt.Sprintf("Sessions: %d checked, %d mismatched", s.Checked, s.Mismatched))
	if len(s.Mismatches) > 0 {
		body = nil
		for _, m := range s.Mismatches {
			body = append(body, []string{m.Session, m.Field, m.Before, m.After})
		}
		d.table([]string{"Session", "Field", "Before", "After"}, body)
	}

	if s.Rows != nil {
		d.heading(fmt.Sprintf("Session rows: %d token rows checked, %d sessions broken", s.Rows.Checked, len(s.Rows.Broken)))
		body = nil
		for i, b := range s.Rows.Broken {
			if i == 10 {
				body = append(body, []string{fmt.Sprintf("… %d more", len(s.Rows.Broken)-10), "", "", ""})
				break
			}
			body = append(body, []string{b.RequestID, b.Subject, b.ClientID, strings.Join(b.Problems, "; ")})
		}
		if len(body) > 0 {
			d.table([]string{"Request", "Subject", "Client", "Problems"}, body)
		}
	}
	if len(s.Endpoints) > 0 {
		d.heading(fmt.Sprintf("Read endpoints, old against new: %d flagged differences", s.EndpointDiffs))
		body = nil
		for _, ep := range s.Endpoints {
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
			body = append(body, []string{ep.Name, fmt.Sprint(len(ep.Diffs)), fmt.Sprint(len(ep.Expected)),
				fmt.Sprint(len(ep.Noise)), strings.Join(paths, ", ")})
		}
		d.table([]string{"Endpoint", "Flagged", "Expected", "Noise", "Flagged fields"}, body)
	}
	if len(s.Expected) > 0 {
		d.heading("Expected differences between the versions")
		body = nil
		for _, x := range s.Expected {
			body = append(body, []string{x.What, x.Reason})
		}
		d.table([]string{"Difference", "Reason"}, body)
	}

	if len(r.Old.Errors)+len(r.New.Errors) > 0 {
		d.heading("Request errors")
		body = nil
		for _, side := range []struct {
			name string
			errs map[string]int
		}{{"before", r.Old.Errors}, {"after", r.New.Errors}} {
			keys := make([]string, 0, len(side.errs))
			for k := range side.errs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				body = append(body, []string{side.name, k, fmt.Sprint(side.errs[k])})
			}
		}
		d.table([]string{"Side", "Error", "Count"}, body)
	}

	if w := r.Window; w != nil {
		d.heading(fmt.Sprintf("Write window: the old server served %.0fs after the clone (%d requests)",
			w.DurationS, w.Requests))
		var lost []string
		for _, t := range w.LostWrites {
			if t.Rows > 0 {
				lost = append(lost, fmt.Sprintf("%s %d", t.Table, t.Rows))
			}
		}
		if len(lost) == 0 {
			lost = []string{"none"}
		}
		d.printf("token rows written in the window that the new database lacks: %s\n", strings.Join(lost, ", "))
		d.printf("sessions revoked in the window, still active in the new database: %d\n", w.RevokedSessions)
		d.printf("tokens cutover revoked in the window: %d; active on the new server before replay: %d",
			w.RevokedByCheck, w.ActiveBeforeReplay)
		if w.ActiveAfterReplay != nil {
			d.printf("; after replaying %d sessions: %d\n", w.Replayed.Sessions, *w.ActiveAfterReplay)
		} else {
			d.printf("; not replayed (window.replay: false)\n")
		}
	}

	d.heading("Gates")
	body = nil
	for _, g := range r.Gates {
		body = append(body, []string{passFail(g.Passed), g.Name, g.Detail})
	}
	d.table([]string{"Result", "Gate", "Detail"}, body)
	return d.err
}

func keyedCount(keyed bool, n int64) string {
	if !keyed {
		return "-"
	}
	return fmt.Sprint(n)
}
