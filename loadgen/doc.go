// Package loadgen replays stateful OAuth traffic on vegeta.
//
// A [Plan] fixes the operation mix, the rate, the duration and a seed;
// for the same plan both sides of an upgrade receive the same sequence
// of operations: client_credentials token requests, refreshes along
// rotating refresh-token chains, introspections and revocations.
//
// Refresh chains are stateful: each refresh must present the newest
// refresh token of its chain, or the server treats it as reuse and
// revokes the whole chain. The chain state lives outside vegeta's
// workers; a chain is held by at most one request at a time and is
// advanced from the server's answer before it is released.
//
// Results are returned as [Sample] values and can also be written in
// vegeta's own result format, so that `vegeta report` and
// `vegeta plot` work on them. Response bodies are never kept: they
// carry tokens.
package loadgen
