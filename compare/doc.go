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
// Student's t interval on the series' effective sample size: successive
// scrapes are alike, and n scrapes with lag-1 autocorrelation r weigh
// as much as n(1-r)/(1+r) independent ones. CPU is the rate of the process's CPU-seconds
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
//     of the percentile itself (the row then carries that percentile's
//     own p-value, from the log ratio and the intervals' widths, and
//     the test [TestPercentile]). Resources and CPU: Welch's t test on
//     the means of the scrapes (per-interval rates for CPU), each side
//     on its effective sample size. Error rate: the two-proportion z
//     test. The six tests of a comparison (latency, memory, heap,
//     goroutines, CPU, errors) are one family, held at Options.Alpha
//     (default 0.05) by Holm's correction;
//   - the change is at least the minimum effect: Options.MinEffectPct
//     (default 5%) of the before figure, or Options.MinErrorRateDelta
//     (default 0.1 percentage points) for the error rate.
//
// The request count is reported without a verdict.
//
// # What a comparison can see
//
// A percentile's estimate is noisy where few requests lie beyond it:
// P99 of 1000 requests rests on the ten slowest. Each latency metric's
// DetectablePct is the smallest change that comparison calls 95 times
// in 100, read off its own bootstrap intervals.
//
// The thresholds were checked on synthetic samples (verdict_test.go;
// log-normal latencies, 26 resource scrapes a side): two sides drawn
// from the same distributions with different seeds got no significant
// change on every metric in 98 of 100 trials; latencies 20% higher were
// called worse in 100 of 100 trials on P50 and P95 with 1000 requests a
// side, and on P99 in 92 of 100 with 1000 (DetectablePct about 24%) and
// 98 of 100 with 2000 (about 19%). A/A pairs of strongly autocorrelated
// scrapes (AR(1), ρ = 0.9) were significant in 2.8% of 1000 trials.
//
// Known shortcoming: the effective sample size assumes the scrapes
// follow an AR(1) process; a curve that drifts over the whole run (a
// slow leak) is judged by its mean, so the report shows a leak as a
// higher mean, not as a trend.
//
// # Gates
//
// [Gates] checks the fixed bounds (error rate, P95 regression, missing
// and changed rows, session mismatches) and any number of
// [MetricLimit]s: relative and absolute bounds on a metric's growth, a
// bound relative to its A/A noise, and a bound on the verdict.
package compare
