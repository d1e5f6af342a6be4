package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutover-dev/cutover/internal/pipeline"
	"github.com/cutover-dev/cutover/scenarios"
)

func cmdStorm(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "storm", "storm [--scenario FILE] [--chains N] [--concurrency N] [--grace-period D]")
	scenario := fs.String("scenario", "", "scenario `file` naming the old and new servers (default: the built-in "+
		scenarios.DefaultName+")")
	chains := fs.Int("chains", 8, "refresh `chains` each misuse is tried on")
	conc := fs.Int("concurrency", 8, "simultaneous refreshes of one token, `N`")
	grace := fs.String("grace-period", "30s", "also run the new server with this refresh rotation grace `period` "+
		"(empty: skip; Hydra allows at most 5m)")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	switch {
	case *chains < 1 || *chains > 1000:
		return usagef(fmt.Errorf("--chains: must be between 1 and 1000, got %d", *chains))
	case *conc < 2 || *conc > 256:
		return usagef(fmt.Errorf("--concurrency: must be between 2 and 256, got %d", *conc))
	}
	if *grace != "" {
		if d, err := time.ParseDuration(*grace); err != nil || d <= 0 || d > 5*time.Minute {
			return usagef(fmt.Errorf("--grace-period: %q is not a duration between 0 and 5m", *grace))
		}
	}
	sc := scenarios.Default()
	if *scenario != "" {
		var err error
		if sc, err = scenarios.Load(*scenario); err != nil {
			var se *scenarios.Error
			if errors.As(err, &se) {
				return usagef(err)
			}
			return usagef(fmt.Errorf("--scenario: %w", err))
		}
	}
	sides, err := pipeline.Storm(ctx, pipeline.StormOptions{Scenario: sc, GracePeriod: *grace, Chains: *chains,
		Concurrency: *conc, Log: e.log})
	if werr := printStorm(e.stdout, sides); werr != nil && err == nil {
		err = werr
	}
	return err
}

func printStorm(w io.Writer, sides []pipeline.StormSide) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "server\tversion\tgrace\tmisuse\tchains\tattempts\tok\t4xx by error\t5xx\tno answer\t"+
		"chains invalidated\n")
	for _, s := range sides {
		for _, o := range s.Outcomes {
			var rej []string
			for _, k := range slices.Sorted(maps.Keys(o.Rejected)) {
				rej = append(rej, fmt.Sprintf("%s=%d", k, o.Rejected[k]))
			}
			g := s.GracePeriod
			if g == "" {
				g = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\n", s.Name, s.Version, g, o.Misuse,
				o.Chains, o.Attempts, o.Succeeded, strings.Join(rej, " "), o.ServerErrors, o.TransportErrors,
				o.Invalidated)
		}
	}
	return tw.Flush()
}
