// Package provision starts and stops what a cutover run measures: a
// PostgreSQL server, its databases, and the old and new server
// processes.
//
// Everything it starts is owned by the returned value, whose Close or
// Stop method removes it again: processes are stopped, temporary
// directories deleted. Callers defer those methods on every path,
// including cancellation, so a run leaves nothing behind.
package provision
