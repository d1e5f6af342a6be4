// Package containers starts cutover's stacks as Docker containers
// through testcontainers-go: a PostgreSQL container and Hydra server
// containers on a network of their own, one-off containers for the
// schema migration, and the engine's CPU and memory figures for each
// server.
//
// Everything an [Engine] creates carries the label [LabelRun] with the
// engine's run id, so that [Leftovers] can find what a crashed run left
// behind; [Engine.Close] removes it all. The reaper container of
// testcontainers is not used (its image cannot be pulled on machines
// without a registry), so cleanup is the caller's: defer Close.
//
// Published ports are bound on 127.0.0.1 only, and [Connect] refuses a
// testcontainers host that is not a loopback address, so that no
// traffic goes to a default-gateway address.
package containers
