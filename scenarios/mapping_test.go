package scenarios

import (
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	const good = `ignore_columns: [nid]
tables:
  - table: hydra_client
    key: [id]
    rename: {pk: pk_deprecated}
    convert: {contacts: pipe_list}
    normalize: {metadata: jsonb}
    expect:
      - columns: [owner]
        reason: owners are rewritten
`
	v, err := ParseMapping("good.yaml", []byte(good))
	if err != nil {
		t.Fatalf("ParseMapping(good): %v", err)
	}
	m := v.Mapping()
	if got := m.Tables[0].Normalize; got["contacts"] != "pipe_list" || got["metadata"] != "jsonb" {
		t.Errorf("normalizers: got %v, want convert and normalize merged", got)
	}
	if got := m.Tables[0].Rename["pk"]; got != "pk_deprecated" {
		t.Errorf("rename pk: got %q, want pk_deprecated", got)
	}
	if got := m.Tables[0].Expect; len(got) != 1 || got[0].Reason != "owners are rewritten" {
		t.Errorf("expect: got %+v", got)
	}

	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"unknown normalizer", "tables:\n  - table: t\n    key: [id]\n    normalize: {a: pipes}\n",
			`bad.yaml:4:20: verify.tables[0].normalize.a: unknown normalizer "pipes"`},
		{"no reason", "tables:\n  - table: t\n    key: [id]\n    expect:\n      - columns: [a]\n",
			"bad.yaml:5:16: verify.tables[0].expect[0].reason: must say why"},
		{"bad kind", "tables:\n  - table: t\n    key: [id]\n    expect:\n      - {kind: gone, reason: x}\n",
			`bad.yaml:5:16: verify.tables[0].expect[0].kind: unknown kind "gone"`},
		{"no key", "tables:\n  - table: t\n", "bad.yaml:2:10: verify.tables[0].key: must name at least one column"},
		{"old_sql not a select", "tables:\n  - table: t\n    key: [id]\n    old_sql: DELETE FROM t\n",
			"bad.yaml:4:14: verify.tables[0].old_sql: must be a SELECT"},
		{"unknown key", "tables:\n  - table: t\n    key: [id]\n    colour: red\n", "bad.yaml:4:"},
		{"empty", "\n", "bad.yaml: mapping is empty"},
		{"a list", "- table: t\n", "bad.yaml:1:1: the mapping file: want a mapping (key: value lines), got a list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMapping("bad.yaml", []byte(tt.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("ParseMapping(%q): got %v, want an error starting %q", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestFlagshipMapping checks that the flagship scenario maps every
// Hydra table that holds data, so that no table is compared by count
// only by mistake.
func TestFlagshipMapping(t *testing.T) {
	m := Default().Verify.Mapping()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []string{"hydra_client", "hydra_jwk", "hydra_oauth2_access", "hydra_oauth2_refresh", "hydra_oauth2_code",
		"hydra_oauth2_oidc", "hydra_oauth2_pkce", "hydra_oauth2_flow", "hydra_oauth2_authentication_session",
		"hydra_oauth2_jti_blacklist", "hydra_oauth2_logout_request", "hydra_oauth2_obfuscated_authentication_session",
		"hydra_oauth2_trusted_jwt_bearer_issuer"}
	got := map[string]bool{}
	for _, tm := range m.Tables {
		got[tm.Table] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("flagship mapping: table %s not mapped", w)
		}
	}
}

// TestExpectConditions checks the old_where and new_where keys of an
// expectation, in a scenario and in a mapping file.
func TestExpectConditions(t *testing.T) {
	const scenario = `name: x
old: {version: v1.11.10}
new: {version: v2.3.0}
verify:
  tables:
    - table: hydra_oauth2_flow
      key: [login_challenge]
      expect:
        - columns: [state]
          old_where: login_error IN ('', '{}')
          new_where: state = 128
          reason: marked as failed
        - kind: missing
          old_where: >-
            requested_at < '2020-01-01'
          reason: expired flows are dropped
        - kind: extra
          new_where: "client_id = 'new'"
          reason: added
`
	s, err := Parse("good.yaml", []byte(scenario))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := s.Verify.Mapping().Tables[0].Expect
	want := []struct{ old, new string }{
		{"login_error IN ('', '{}')", "state = 128"},
		{"requested_at < '2020-01-01'", ""},
		{"", "client_id = 'new'"},
	}
	if len(got) != len(want) {
		t.Fatalf("expect: got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].OldWhere != w.old || got[i].NewWhere != w.new {
			t.Errorf("expect[%d]: got old_where %q, new_where %q; want %q, %q",
				i, got[i].OldWhere, got[i].NewWhere, w.old, w.new)
		}
	}

	const orLeaveOut = "give an SQL condition or leave the key out"
	for _, tt := range []struct {
		name, expect, want string
	}{
		{"new_where on missing", "{kind: missing, new_where: a = 1, reason: x}",
			"bad.yaml:5:36: verify.tables[0].expect[0].new_where: a missing row has no new side; use old_where"},
		{"old_where on extra", "{kind: extra, old_where: a = 1, reason: x}",
			"bad.yaml:5:34: verify.tables[0].expect[0].old_where: an extra row has no old side; use new_where"},
		{"semicolon in old_where", `{columns: [a], old_where: "true; DELETE FROM t", reason: x}`,
			"bad.yaml:5:35: verify.tables[0].expect[0].old_where: must be one SQL expression, without a semicolon"},
		{"semicolon in new_where", `{kind: extra, new_where: "a = 1;", reason: x}`,
			"bad.yaml:5:34: verify.tables[0].expect[0].new_where: must be one SQL expression, without a semicolon"},
		// An empty or null condition decoded as none and covered every
		// row; it is as blank as one of spaces.
		{"blank old_where", `{columns: [a], old_where: "  ", reason: x}`,
			"bad.yaml:5:35: verify.tables[0].expect[0].old_where: is blank; " + orLeaveOut},
		{"empty new_where", `{columns: [a], new_where: "", reason: x}`,
			"bad.yaml:5:35: verify.tables[0].expect[0].new_where: is blank; " + orLeaveOut},
		{"empty old_where", `{kind: missing, old_where: '', reason: x}`,
			"bad.yaml:5:36: verify.tables[0].expect[0].old_where: is blank; " + orLeaveOut},
		{"null old_where", `{columns: [a], old_where: ~, reason: x}`,
			"bad.yaml:5:35: verify.tables[0].expect[0].old_where: is blank; " + orLeaveOut},
		{"no value for new_where", "{kind: extra, reason: x, new_where: }",
			"bad.yaml:5:44: verify.tables[0].expect[0].new_where: is blank; " + orLeaveOut},
		{"empty new_where on missing", `{kind: missing, new_where: "", reason: x}`,
			"bad.yaml:5:36: verify.tables[0].expect[0].new_where: is blank; " + orLeaveOut},
		{"not a string", "{columns: [a], old_where: [a], reason: x}",
			"bad.yaml:5:35: tables[0].expect[0].old_where: want text, got a list"},
		{"misspelt key", "{columns: [a], where: a = 1, reason: x}",
			"bad.yaml:5:24: tables[0].expect[0].where: unknown field; " +
				"known: columns, kind, new_where, old_where, reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "tables:\n  - table: t\n    key: [id]\n    expect:\n      - " + tt.expect + "\n"
			_, err := ParseMapping("bad.yaml", []byte(yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("ParseMapping(%q): got %v, want an error starting %q", yaml, err, tt.want)
			}
		})
	}
}
