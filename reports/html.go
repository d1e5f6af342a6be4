package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// HTML writes r as one self-contained HTML page: the tables of the
// text report and the plots of [Plots], embedded as data URIs, so the
// file can be mailed or archived as a CI artifact and opened anywhere.
func HTML(w io.Writer, r *Report) error {
	plots, err := Plots(r)
	if err != nil {
		return fmt.Errorf("writing html report: %w", err)
	}
	return writeHTML(w, r, plots)
}

func writeHTML(w io.Writer, r *Report, plots []Plot) error {
	type row struct {
		Cells []string
		Class string
	}
	type plotView struct {
		Title string
		Src   template.URL
	}
	v := struct {
		R                                   *Report
		Verdict, Summary, Stats, Detectable string
		Metrics, Calibration, Gates, Ops    []row
		MetricsHead, GatesHead, OpsHead     []string
		Plots                               []plotView
	}{R: r, Verdict: strings.ToUpper(r.Verdict)}
	if r.Partial {
		v.Verdict += " (partial run: " + r.Error + ")"
	}
	v.Summary = fmt.Sprintf("%s %s → %s %s; load %.0f req/s for %.0fs (seed %d); latency and resources "+
		"from the steady state after %.0fs warm-up", r.Old.Kind, r.Old.Version, r.New.Kind, r.New.Version,
		r.Load.RatePerSec, r.Load.DurationS, r.Load.Seed, r.Load.WarmupS)
	if st := r.Stats; st != nil {
		v.Stats = fmt.Sprintf("%s intervals; significance at α=%g (Holm's correction across metrics), "+
			"minimum effect %g%%; ~ means no significant change", pctOf(st.Confidence), st.Alpha, st.MinEffectPct)
	}
	v.Detectable = detectable(r.Metrics)
	v.MetricsHead = []string{"Metric", "Before", "After", "Change", "p", "Verdict"}
	if len(r.Calibration) > 0 {
		v.MetricsHead = append(v.MetricsHead, "A/A noise")
	}
	for _, m := range r.Metrics {
		cells := []string{label(m.Name), withCI(m.Unit, m.Before, m.BeforeCI), withCI(m.Unit, m.After, m.AfterCI),
			change(m), pValue(m.PValue), verdict(m.Verdict)}
		if len(r.Calibration) > 0 {
			cells = append(cells, noise(m.NoisePct))
		}
		v.Metrics = append(v.Metrics, row{Cells: cells, Class: m.Verdict})
	}
	for _, m := range r.Calibration {
		v.Calibration = append(v.Calibration, row{Cells: []string{label(m.Name), value(m.Unit, m.Before),
			value(m.Unit, m.After), change(m), verdict(m.Verdict)}})
	}
	v.GatesHead = []string{"Result", "Gate", "Detail"}
	for _, g := range r.Gates {
		c := "pass"
		if !g.Passed {
			c = "fail"
		}
		v.Gates = append(v.Gates, row{Cells: []string{passFail(g.Passed), g.Name, g.Detail}, Class: c})
	}
	v.OpsHead = []string{"Operation", "Req before", "Req after", "P50 before", "P50 after", "P95 before",
		"P95 after", "Failed"}
	for _, o := range r.Operations {
		v.Ops = append(v.Ops, row{Cells: []string{o.Op, fmt.Sprint(o.Requests[0]), fmt.Sprint(o.Requests[1]),
			value("ms", o.P50MS[0]), value("ms", o.P50MS[1]), value("ms", o.P95MS[0]), value("ms", o.P95MS[1]),
			fmt.Sprintf("%d / %d", o.Failed[0], o.Failed[1])}})
	}
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
<h2>Before and after</h2>
{{with .Stats}}<p>{{.}}</p>{{end}}
<table>
<tr>{{range .MetricsHead}}<th>{{.}}</th>{{end}}</tr>
{{range .Metrics}}<tr class="{{.Class}}">{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{with .Detectable}}<p>{{.}}</p>{{end}}
{{if .Calibration}}<h2>A/A calibration (old side against itself)</h2>
<table>
<tr><th>Metric</th><th>Run 1</th><th>Run 2</th><th>Change</th><th>Verdict</th></tr>
{{range .Calibration}}<tr>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}<h2>Gates</h2>
<table>
<tr>{{range .GatesHead}}<th>{{.}}</th>{{end}}</tr>
{{range .Gates}}<tr class="{{.Class}}">{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Ops}}<h2>Latency by operation</h2>
<table>
<tr>{{range .OpsHead}}<th>{{.}}</th>{{end}}</tr>
{{range .Ops}}<tr>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}<h2>Migration, rows and sessions</h2>
<p>Migration took {{.R.Migration.DurationMS}} ms. Rows: {{.R.Verify.RowsCompared}} compared,
{{.R.Verify.Missing}} missing, {{.R.Verify.Extra}} extra, {{.R.Verify.Changed}} changed.
Sessions: {{.R.Sessions.Checked}} checked, {{.R.Sessions.Mismatched}} mismatched.</p>
{{if .R.Sessions.Mismatches}}<h3>Sessions that behave differently</h3>
<table><tr><th>Session</th><th>Field</th><th>Before</th><th>After</th></tr>
{{range .R.Sessions.Mismatches}}<tr><td>{{.Session}}</td><td>{{.Field}}</td><td>{{.Before}}</td><td>{{.After}}</td></tr>
{{end}}</table>
{{end}}{{with .R.Sessions.Rows}}{{if .Broken}}<h3>Session rows: {{.Checked}} token rows checked, {{len .Broken}} sessions broken</h3>
<table><tr><th>Request</th><th>Subject</th><th>Client</th><th>Problems</th></tr>
{{range .Broken}}<tr><td>{{.RequestID}}</td><td>{{.Subject}}</td><td>{{.ClientID}}</td><td>{{range $i, $p := .Problems}}{{if $i}}; {{end}}{{$p}}{{end}}</td></tr>
{{end}}</table>
{{end}}{{end}}{{range .R.Verify.Tables}}{{if .Diffs}}<h3>Row differences in {{.Table}}</h3>
<table><tr><th>Key</th><th>Kind</th><th>Columns</th><th>Expected</th></tr>
{{range .Diffs}}<tr><td>{{.Key}}</td><td>{{.Kind}}</td><td>{{range $i, $c := .Columns}}{{if $i}}, {{end}}{{$c}}{{end}}</td><td>{{if .Expected}}yes: {{.Reason}}{{else}}no{{end}}</td></tr>
{{end}}</table>
{{end}}{{end}}{{if .Plots}}<h2>Plots</h2>
{{range .Plots}}<figure><img alt="{{.Title}}" src="{{.Src}}"><figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}</body>
</html>
`))
