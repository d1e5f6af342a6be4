//go:build tools

// Package hydrabuild pins Ory Hydra v1.11.10 so that cutover can build
// the old server from the Go module proxy without touching its own
// go.mod.
package hydrabuild

import _ "github.com/ory/hydra"
