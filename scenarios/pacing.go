package scenarios

import (
	"fmt"
	"strings"
	"time"
)

// Pacing shapes the request rate over the load's duration. Without it
// the load runs at the constant load.rate.
type Pacing struct {
	// Kind is constant (the default), linear, sine or stages.
	Kind string `yaml:"kind"`
	// From and To are a linear ramp's rates at the start and at the end
	// of load.duration, such as "10/s" and "200/s".
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Amplitude is how far a sine swings around load.rate (its mean);
	// it must be smaller than the mean.
	Amplitude string `yaml:"amplitude"`
	// Period is a sine's period, such as "1m".
	Period string `yaml:"period"`
	// Stages run one after another; their durations must add up to
	// load.duration.
	Stages []Stage `yaml:"stages"`

	// Parsed values, filled in by validation.
	FromRate, ToRate, AmpRate Rate          `yaml:"-"`
	PeriodDur                 time.Duration `yaml:"-"`
}

// A Stage is one part of a staged load.
type Stage struct {
	// Duration is how long the stage lasts, such as "30s".
	Duration string `yaml:"duration"`
	// Rate is held through the stage, or reached at its end with Ramp.
	Rate string `yaml:"rate"`
	// Ramp makes the rate move linearly from the previous stage's rate
	// (0 before the first stage) to Rate.
	Ramp bool `yaml:"ramp"`

	// Parsed values, filled in by validation.
	Dur     time.Duration `yaml:"-"`
	RatePer Rate          `yaml:"-"`
}

// PacingKinds are the known pacing kinds.
var PacingKinds = []string{"constant", "linear", "sine", "stages"}

func validatePacing(ld *Traffic, l *locator) error {
	p := &ld.Pacing
	rate := func(key, raw string, dst *Rate) error {
		if raw == "" {
			return l.errorf("$.load.pacing", "load.pacing.%s: must be set for kind %s", key, p.Kind)
		}
		r, err := ParseRate(raw)
		if err != nil {
			return l.errorf("$.load.pacing."+key, "load.pacing.%s: %v", key, err)
		}
		*dst = r
		return nil
	}
	switch p.Kind {
	case "", "constant":
		p.Kind = "constant"
		return nil
	case "linear":
		if err := rate("from", p.From, &p.FromRate); err != nil {
			return err
		}
		return rate("to", p.To, &p.ToRate)
	case "sine":
		if err := rate("amplitude", p.Amplitude, &p.AmpRate); err != nil {
			return err
		}
		if p.AmpRate.PerSecond() >= ld.RatePer.PerSecond() {
			return l.errorf("$.load.pacing.amplitude",
				"load.pacing.amplitude: must be below the mean load.rate (%s), got %s", ld.Rate, p.Amplitude)
		}
		d, err := time.ParseDuration(p.Period)
		if err != nil || d < time.Second {
			return l.errorf("$.load.pacing.period", "load.pacing.period: %q is not a duration of at least 1s", p.Period)
		}
		p.PeriodDur = d
		return nil
	case "stages":
		if len(p.Stages) == 0 {
			return l.errorf("$.load.pacing", "load.pacing.stages: must list at least one stage")
		}
		var total time.Duration
		for i := range p.Stages {
			s := &p.Stages[i]
			key := fmt.Sprintf("$.load.pacing.stages[%d]", i)
			d, err := time.ParseDuration(s.Duration)
			if err != nil || d <= 0 {
				return l.errorf(key+".duration", "load.pacing.stages[%d].duration: %q is not a positive duration", i, s.Duration)
			}
			s.Dur, total = d, total+d
			if s.Rate == "0" || strings.HasPrefix(s.Rate, "0/") {
				continue // a ramp down to nothing
			}
			if s.RatePer, err = ParseRate(s.Rate); err != nil {
				return l.errorf(key+".rate", "load.pacing.stages[%d].rate: %v", i, err)
			}
		}
		if total != ld.Dur {
			return l.errorf("$.load.pacing.stages", "load.pacing.stages: durations add up to %v, load.duration is %v",
				total, ld.Dur)
		}
		return nil
	}
	return l.errorf("$.load.pacing.kind", "load.pacing.kind: unknown kind %q (known: %s)", p.Kind,
		strings.Join(PacingKinds, ", "))
}
