package verify_test

import (
	"fmt"

	"github.com/cutover-dev/cutover/verify"
)

// A mapping names, per table, the key and what the migration changed;
// Validate rejects unknown normalizers before any database is read.
func ExampleMapping_Validate() {
	m := verify.Mapping{Tables: []verify.TableMap{{
		Table:     "hydra_client",
		Key:       []string{"id"},
		Rename:    map[string]string{"pk": "pk_deprecated"},
		Normalize: map[string]string{"contacts": "pipe-list"},
	}}}
	fmt.Println(m.Validate())
	m.Tables[0].Normalize["contacts"] = "pipe_list"
	fmt.Println(m.Validate())
	// Output:
	// table hydra_client: column contacts: unknown normalizer "pipe-list" (known: jsonb, null_empty, numeric, pipe_list, text, timestamp_ms, timestamp_s, utc)
	// <nil>
}
