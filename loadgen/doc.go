// Package loadgen replays stateful OAuth traffic on vegeta.
//
// # Traffic
//
// A [Plan] fixes the operation mix, the pacing, the duration and a
// seed; for the same plan both sides of an upgrade receive the same
// sequence of operations: client_credentials token requests, refreshes
// along rotating refresh-token chains, authorization-code flows,
// introspections, revocations of access and refresh tokens, and reads
// of the JWKS and discovery documents. Clients are used in turn;
// authorization-code flows log in as Plan.Subjects users in turn.
//
// An authorization-code operation is several HTTP requests (the
// authorization request, login and consent accepted through the admin
// API, the redirects back, the token exchange). It is measured as one
// operation: its latency runs from the first request to the token
// answer, the way a user experiences the flow minus the login page,
// and its status is the token exchange's, or that of the first hop
// that failed. The hops are not listed one by one.
//
// Refresh chains are stateful: each refresh must present the newest
// refresh token of its chain, or the server treats it as reuse and
// revokes the whole chain. The chain state lives outside vegeta's
// workers; a chain is held by at most one request at a time and is
// advanced from the server's answer before it is released. [Storm]
// misuses chains on purpose (reuse of a rotated token, concurrent
// refreshes of one token) and reports what the server did.
//
// # Pacing and honest latencies
//
// The model is open: requests are due on the pacer's schedule
// ([Constant], [Linear], [Sine], [Stages], or any vegeta.Pacer) whether
// or not earlier ones were answered. Each request's intended send time
// is computed from the pacer beside its actual one. When every worker
// is busy, requests leave late ([Figures.Late]) or, when the run ends
// first, never ([Result.Dropped]); [Figures.Response] measures from the
// intended send time, so a stalled server shows up in the figures
// instead of disappearing behind a calm latency curve.
//
// # Figures and memory
//
// Figures are kept per operation and client kind in HDR histograms:
// quantiles within 0.1% of the exact sample quantile, in memory that
// does not grow with the run. [Result.Samples] keeps the first
// Plan.MaxSamples requests for callers that want them.
//
// Results are also written as vegeta result files, so that
// `vegeta report` and `vegeta plot` work on them. Each result's URL
// carries the operation in its fragment ("#refresh/12",
// "#client_credentials@public"), which is never sent to the server.
// Response bodies are never kept: they carry tokens.
//
// # Splitting a run across N workers
//
// One process on one machine holds a few thousand requests a second.
// To go past that, run N loadgen processes (`cutover load --shard i/N
// --start-at TIME`) against the same servers, each with the same plan:
// worker i sends exactly the requests whose number in the plan's
// sequence is i modulo N, at their scheduled times, so together the
// workers send the plan's sequence at the plan's rate (each worker's
// pacer is the plan's pacer thinned to every N-th request). Refresh
// chains cannot be shared between processes: worker i rotates only
// the chains whose number is i modulo N, so the plan needs at least N
// chains; which chain a refresh uses then differs from a single-process
// run, while the sequence of operations and clients does not. Start
// the workers at the same wall-clock time (--start-at; their clocks
// must agree to well within a request interval) and give each its own
// result file. `vegeta report w0.bin w1.bin …` and `vegeta plot`
// merge the files; in-process results merge with [Merge]
// (histograms add exactly). Known shortcoming: each worker prepares
// its own tokens to introspect and revoke on the server, so N workers
// create N times the preparation state.
package loadgen
