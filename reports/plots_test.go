package reports

import (
	"bytes"
	"image"
	"image/color"
	_ "image/png"
	"strings"
	"testing"
)

// sideShare returns the share of pixels in img close to each side's
// colour.
func sideShare(img image.Image) (old, new float64) {
	near := func(c color.Color, want color.Color) bool {
		r, g, b, _ := c.RGBA()
		wr, wg, wb, _ := want.RGBA()
		d := func(a, b uint32) int { return int(a>>8) - int(b>>8) }
		return abs(d(r, wr)) < 40 && abs(d(g, wg)) < 40 && abs(d(b, wb)) < 40
	}
	bounds := img.Bounds()
	var n, o, nw int
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := img.At(x, y)
			n++
			if near(c, sideColors[0]) {
				o++
			}
			if near(c, sideColors[1]) {
				nw++
			}
		}
	}
	return float64(o) / float64(n), float64(nw) / float64(n)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func TestPlots(t *testing.T) {
	plots, err := Plots(fixture())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Latency percentiles over time", "Latency distribution (steady state)",
		"Resident memory over time", "Go heap in use over time", "Goroutines over time", "CPU over time"}
	if len(plots) != len(want) {
		t.Fatalf("got %d plots, want %d", len(plots), len(want))
	}
	for i, p := range plots {
		if p.Title != want[i] {
			t.Errorf("plot %d title = %q, want %q", i, p.Title, want[i])
		}
		img, _, err := image.Decode(bytes.NewReader(p.PNG))
		if err != nil {
			t.Fatalf("%s: %v", p.Title, err)
		}
		// Both sides must be drawn: each colour covers a visible share of
		// the image, not just the legend's sample.
		o, n := sideShare(img)
		if o < 0.002 || n < 0.002 {
			t.Errorf("%s: share of pixels in the old side's colour %.4f, new side's %.4f; want both >= 0.002",
				p.Title, o, n)
		}
	}
}

func TestPlotsWithoutSeries(t *testing.T) {
	r := fixture()
	r.Series = nil
	plots, err := Plots(r)
	if err != nil || len(plots) != 0 {
		t.Errorf("Plots without series = %d plots, %v; want none, nil", len(plots), err)
	}
}

func TestSecondsTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 55, "0 10 20 30 40 50"},
		{0, 30, "0 5 10 15 20 25 30"},
		{0.3, 4.2, "1 2 3 4"},
		{0, 600, "0 120 240 360 480 600"},
		{2, 49.5, "10 20 30 40"},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (secondsTicks{}).Ticks(tt.lo, tt.hi) {
			got = append(got, tk.Label)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("ticks of [%g, %g] = %q, want %q", tt.lo, tt.hi, g, tt.want)
		}
	}
}
