// Package hydra adapts Ory Hydra to cutover: it builds the server
// binaries from the Go module proxy, starts a server with the settings
// both major versions need, and speaks the admin and public APIs,
// including a headless login and consent driver for the
// authorization-code flow.
//
// The two major versions differ in where the admin API lives: 1.x
// serves it at the root of the admin port, 2.x under /admin. [API]
// hides that difference.
package hydra
