package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover-dev/cutover/compare"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// A Plot is one rendered figure of the HTML report.
type Plot struct {
	// Title says what the plot shows.
	Title string
	// PNG is the image.
	PNG []byte
}

// sideColors are the old side's blue and the new side's orange.
var sideColors = [2]color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 230, G: 115, B: 0, A: 255},
}

// Plots draws the report's time series: latency percentiles over time,
// the latency distributions, and resident memory, Go heap, goroutines
// and CPU over time, each with both sides. It returns no plots when r
// holds no series.
func Plots(r *Report) ([]Plot, error) {
	s := r.Series
	if s == nil {
		return nil, nil
	}
	sides := [2]*compare.Series{s.Old, s.New}
	names := [2]string{"before " + r.Old.Version, "after " + r.New.Version}
	var out []Plot
	add := func(title string, p *plot.Plot, err error) error {
		if err != nil {
			return err
		}
		legendRoom(p, 3.6*vg.Inch)
		b, err := png(p, 9*vg.Inch, 3.6*vg.Inch)
		if err != nil {
			return fmt.Errorf("drawing %s: %w", title, err)
		}
		out = append(out, Plot{Title: title, PNG: b})
		return nil
	}
	p, err := latencyOverTime(sides, names, s.WarmupS)
	if err := add("Latency percentiles over time", p, err); err != nil {
		return nil, err
	}
	p, err = latencyDistribution(sides, names, s.WarmupS)
	if err := add("Latency distribution (steady state)", p, err); err != nil {
		return nil, err
	}
	for _, res := range []struct {
		title, unit string
		get         func(compare.Resource) *float64
		scale       float64
	}{
		{"Resident memory", "MB", func(x compare.Resource) *float64 { return x.RSS }, 1e-6},
		{"Go heap in use", "MB", func(x compare.Resource) *float64 { return x.Heap }, 1e-6},
		{"Goroutines", "count", func(x compare.Resource) *float64 { return x.Goroutines }, 1},
	} {
		p, err := resource(sides, names, s.WarmupS, res.title, res.unit, func(rs []compare.Resource) plotter.XYs {
			var xy plotter.XYs
			for _, x := range rs {
				if v := res.get(x); v != nil {
					xy = append(xy, plotter.XY{X: x.AtS, Y: *v * res.scale})
				}
			}
			return xy
		})
		if err := add(res.title+" over time", p, err); err != nil {
			return nil, err
		}
	}
	p, err = resource(sides, names, s.WarmupS, "CPU", "cores", cpuRates)
	if err := add("CPU over time", p, err); err != nil {
		return nil, err
	}
	return out, nil
}

// cpuRates turns the CPU-seconds counter into cores used over each
// scrape interval, plotted at the interval's end.
func cpuRates(rs []compare.Resource) plotter.XYs {
	var xy plotter.XYs
	var prev *compare.Resource
	for i := range rs {
		x := &rs[i]
		if x.CPUSeconds == nil {
			continue
		}
		if prev != nil && x.AtS > prev.AtS {
			xy = append(xy, plotter.XY{X: x.AtS, Y: (*x.CPUSeconds - *prev.CPUSeconds) / (x.AtS - prev.AtS)})
		}
		prev = x
	}
	return xy
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	if strings.HasPrefix(xLabel, "seconds") {
		p.X.Tick.Marker = secondsTicks{}
	}
	p.Add(plotter.NewGrid())
	return p
}

// legendRoom raises the top of p's y axis so that the legend, in the
// top-left corner, sits above the data rather than over it, for a plot
// of the given height.
func legendRoom(p *plot.Plot, height vg.Length) {
	if p.Y.Max <= p.Y.Min {
		return
	}
	c := draw.New(vgimg.New(9*vg.Inch, height))
	legend := p.Legend.Rectangle(c).Size().Y + vg.Points(8)
	data := height - vg.Inch // less the title and the x axis
	if f := float64(legend / data); f > 0 && f < 0.8 {
		p.Y.Max = p.Y.Min + (p.Y.Max-p.Y.Min)/(1-f)
	}
}

// secondsTicks marks a time axis in whole seconds: about six labelled
// ticks a step of 1, 2, 5, 10, 15, 30 or 60 s (or a multiple of 60).
type secondsTicks struct{}

func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 60.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60} {
		if (hi-lo)/s <= 7 {
			step = s
			break
		}
	}
	for (hi-lo)/step > 7 {
		step += 60
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return out
}

func latencyOverTime(sides [2]*compare.Series, names [2]string, warm float64) (*plot.Plot, error) {
	p := newPlot("Latency percentiles over time (1 s windows)", "seconds since the load started", "ms")
	dashes := map[float64][]vg.Length{
		0.5:  nil,
		0.95: {vg.Points(6), vg.Points(3)},
		0.99: {vg.Points(1), vg.Points(2)},
	}
	for i, s := range sides {
		if s == nil || len(s.Requests) == 0 {
			continue
		}
		bins := map[int][]float64{}
		last := 0
		for _, r := range s.Requests {
			b := int(r.AtS)
			bins[b] = append(bins[b], r.LatencyMS)
			last = max(last, b)
		}
		for _, q := range []float64{0.5, 0.95, 0.99} {
			var xy plotter.XYs
			for b := 0; b <= last; b++ {
				if len(bins[b]) == 0 {
					continue
				}
				xy = append(xy, plotter.XY{X: float64(b) + 0.5, Y: compare.Quantile(bins[b], q)})
			}
			ln, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("latency over time: %w", err)
			}
			ln.Color = sideColors[i]
			ln.Dashes = dashes[q]
			ln.Width = vg.Points(1.5)
			p.Add(ln)
			p.Legend.Add(fmt.Sprintf("%s P%g", names[i], q*100), ln)
		}
	}
	markWarmup(p, warm)
	return p, nil
}

func latencyDistribution(sides [2]*compare.Series, names [2]string, warm float64) (*plot.Plot, error) {
	p := newPlot("Latency distribution after warm-up (share of requests per bin, log scale)",
		"ms", "share of requests")
	var lat [2][]float64
	var all []float64
	for i, s := range sides {
		if s == nil {
			continue
		}
		for _, r := range s.Requests {
			if r.AtS >= warm && r.LatencyMS > 0 {
				lat[i] = append(lat[i], r.LatencyMS)
			}
		}
		all = append(all, lat[i]...)
	}
	if len(all) == 0 {
		return p, nil
	}
	slices.Sort(all)
	// Latencies span decades: bins of equal width in log space keep the
	// body and the tail readable on one axis.
	lo, hi := math.Log10(all[0]), math.Log10(all[len(all)-1])
	if hi <= lo {
		hi = lo + 1
	}
	const bins = 50
	w := (hi - lo) / bins
	for i := range lat {
		if len(lat[i]) == 0 {
			continue
		}
		counts := make([]float64, bins)
		for _, x := range lat[i] {
			b := min(int((math.Log10(x)-lo)/w), bins-1)
			counts[max(b, 0)]++
		}
		xy := make(plotter.XYs, 0, bins+1)
		for b, c := range counts {
			xy = append(xy, plotter.XY{X: math.Pow(10, lo+float64(b)*w), Y: c / float64(len(lat[i]))})
		}
		xy = append(xy, plotter.XY{X: math.Pow(10, hi), Y: xy[len(xy)-1].Y})
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("latency distribution: %w", err)
		}
		ln.StepStyle = plotter.PostStep
		ln.Color = sideColors[i]
		ln.Width = vg.Points(1.5)
		ln.FillColor = withAlpha(sideColors[i], 60)
		p.Add(ln)
		p.Legend.Add(fmt.Sprintf("%s (%d requests)", names[i], len(lat[i])), ln)
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	return p, nil
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func resource(sides [2]*compare.Series, names [2]string, warm float64, title, unit string,
	pick func([]compare.Resource) plotter.XYs) (*plot.Plot, error) {
	p := newPlot(title+" over time", "seconds since the load started", unit)
	for i, s := range sides {
		if s == nil {
			continue
		}
		xy := pick(s.Resources)
		if len(xy) == 0 {
			continue
		}
		ln, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		ln.Color, pts.Color = sideColors[i], sideColors[i]
		// The old side is drawn wider and first so that it still shows
		// where the sides coincide.
		ln.Width = vg.Points(float64(3 - 1.5*float64(i)))
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(float64(3 - float64(i)))
		p.Add(ln, pts)
		p.Legend.Add(names[i], ln, pts)
	}
	markWarmup(p, warm)
	return p, nil
}

// markWarmup shades nothing but draws a dashed vertical line at the end
// of the warm-up, after the data have set the y range.
func markWarmup(p *plot.Plot, warm float64) {
	if warm <= 0 || math.IsInf(p.Y.Min, 0) || p.Y.Max <= p.Y.Min {
		return
	}
	p.X.Min = 0
	ln, err := plotter.NewLine(plotter.XYs{{X: warm, Y: p.Y.Min}, {X: warm, Y: p.Y.Max}})
	if err != nil {
		return
	}
	ln.Color = color.Gray{Y: 120}
	ln.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(ln)
	p.Legend.Add(fmt.Sprintf("end of warm-up (%gs)", warm), ln)
}

func png(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
