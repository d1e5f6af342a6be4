package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/verify"
)

// The functions in this file build the headings, lines and tables of
// the sections that the text, Markdown and HTML reports share: render
// and writeHTML take each section's content from here and only lay it
// out, so the formats cannot drift apart.

// A table is a formatted table: its header and rows of cells.
type table struct {
	Head []string
	Body [][]string
	// Wrap, when positive, is the width at which the terminal report
	// wraps the last column, whose cells can run long (the notes on a
	// table's differences); Markdown keeps cells on one line.
	Wrap int
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

// origin says where a comparison of saved runs came from, or "" for a
// run.
func origin(r *Report) string {
	c := r.Comparison
	if c == nil {
		return ""
	}
	return fmt.Sprintf("compare of %s (%s) → %s (%s), gates from %s; row and session findings from %s",
		c.BeforeDir, c.BeforeSide, c.AfterDir, c.AfterSide, c.GatesScenario, c.FindingsFrom)
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
	t := table{Head: []string{"Table", "Check", "Old", "New", "Missing", "Extra", "Changed", "Notes"}, Wrap: 60}
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

// tableNotes names a table's dropped columns and those whose type
// changed, and its first differences: four notes at most, then how many
// more there are.
func tableNotes(t verify.TableResult) string {
	var notes []string
	if len(t.OldOnly) > 0 {
		notes = append(notes, "dropped: "+strings.Join(t.OldOnly, ", "))
	}
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

// keyedCount is n for a table compared row by row, and "-" for one
// whose rows were only counted.
func keyedCount(keyed bool, n int64) string {
	if !keyed {
		return "-"
	}
	return fmt.Sprint(n)
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
