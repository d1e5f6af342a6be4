// Package compare turns two measured sides of an upgrade into metric
// comparisons with confidence intervals, significance tests and
// verdicts, and checks them against gates.
//
// # Figures
//
// Latency percentiles (P50, P95, P99) are exact, computed from every
// steady-state sample with gonum's empirical quantile; their intervals
// come from a percentile bootstrap (Options.Resamples resamples, seeded,
// so a report is reproducible). Resource figures (resident memory, Go
// heap, goroutines) are means over the steady-state scrapes with a
// Student's t interval. CPU is the rate of the process's CPU-seconds
// counter over each scrape interval, averaged: the cores in use. The
// error rate has a Wilson score interval. Steady state means from the
// end of the warm-up until the load stopped sending (scrapes taken
// while the last answers drain are left out); the warm-up is left out
// of every figure except the request and failure counts.
//
// # Verdicts
//
// Each metric gets a verdict the way benchstat reports one: "better",
// "worse", or "no_change" (shown as "~"). A metric is better or worse
// only when both hold:
//
//   - the change is significant. Latency: the two-sided Mann-Whitney U
//     test on the whole latency distributions, or, for a change in the
//     tail alone that the U test may miss, disjoint bootstrap intervals
//     of the percentile itself. Resources and CPU: the U test on the
//     scrapes (per-interval rates for CPU). Error rate: the
//     two-proportion z test. The six tests of a comparison (latency,
//     memory, heap, goroutines, CPU, errors) are one family, held at
//     Options.Alpha (default 0.05) by Holm's correction;
//   - the change is at least the minimum effect: Options.MinEffectPct
//     (default 5%) of the before figure, or Options.MinErrorRateDelta
//     (default 0.1 percentage points) for the error rate.
//
// The request count is reported without a verdict.
//
// These thresholds were checked on synthetic samples (verdict_test.go;
// 1000 log-normal latencies per side, 26 resource scrapes): two sides
// drawn from the same distributions with different seeds got no
// significant change on every metric in 98 of 100 trials; latencies 20%
// higher were called worse in 100 of 100 trials on P50 and P95 and in
// 92 of 100 on P99, whose estimate from 1000 samples rests on the ten
// slowest requests and so sometimes measures a 20% shift below the 5%
// floor. More requests per side (a longer or faster load) tighten P99.
//
// Known shortcoming: resource scrapes of one run are autocorrelated,
// while the U test and the t interval treat them as independent, so
// their p-values and intervals are somewhat optimistic. The minimum
// effect and the A/A calibration (a second load of the old side, whose
// changes are reported as each metric's noise) guard against calling
// such noise a regression.
//
// # Gates
//
// [Gates] checks the fixed bounds (error rate, P95 regression, missing
// and changed rows, session mismatches) and any number of
// [MetricLimit]s: relative and absolute bounds on a metric's growth, a
// bound relative to its A/A noise, and a bound on the verdict.
package compare
