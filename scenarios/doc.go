// Package scenarios reads and validates cutover scenario files.
//
// A scenario names the old and the new server, the traffic to replay
// against both, the tables to verify across the schema change and the
// gates that decide whether the upgrade is safe. Files are YAML and
// decoded strictly: an unknown key, a value of the wrong type and a
// value out of range are all reported as a [*Error] carrying the file
// name, line and column of the offending node.
//
// The flagship scenario, Ory Hydra v1.11.10 to v2.3.0, is embedded in
// the package; [Default] returns it and [DefaultYAML] returns its text
// so that users can start from a copy.
package scenarios
