// Package compare turns two measured sides of an upgrade into metric
// comparisons and gate verdicts.
//
// Latency percentiles are exact, computed from every sample with
// gonum's empirical quantile. Resource figures (resident memory, Go
// heap, goroutines) are means over the steady-state part of the run,
// and CPU is the slope of the process's CPU-seconds counter over time,
// in cores.
package compare
