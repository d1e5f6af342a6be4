package scenarios

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	s := Default()
	if s.Name != DefaultName || s.Old.Version != "v1.11.10" || s.New.Version != "v2.3.0" {
		t.Errorf("Default() = %s %s -> %s, want %s v1.11.10 -> v2.3.0", s.Name, s.Old.Version, s.New.Version, DefaultName)
	}
	if got, want := s.Load.RatePer.PerSecond(), 40.0; got != want {
		t.Errorf("rate %v/s, want %v/s", got, want)
	}
	if s.Load.Dur != 55*time.Second || s.Load.Warm != 5*time.Second {
		t.Errorf("duration %v warmup %v, want 55s and 5s", s.Load.Dur, s.Load.Warm)
	}
	// The file users copy is the one embedded.
	data, err := os.ReadFile(DefaultName + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(DefaultYAML()) {
		t.Error("the embedded scenario differs from " + DefaultName + ".yaml")
	}
}

func TestDefaultsFillOmittedKeys(t *testing.T) {
	s, err := Parse("min.yaml", []byte("name: min\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Old.Kind != "hydra" || s.Seed.Clients != 4 || s.Load.Chains != 32 || len(s.Load.Mix) != 4 {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.Gates.MaxErrorRate != 0.01 || s.Gates.MaxP95RegressionPct != 25 {
		t.Errorf("default gates %+v", s.Gates)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		perSec  float64
		wantErr bool
	}{
		{"40/s", 40, false},
		{"600/m", 10, false},
		{"5/100ms", 50, false},
		{" 7 / 1s ", 7, false},
		{"1/2s", 0.5, false},
		{"40", 0, true},
		{"x/s", 0, true},
		{"-1/s", 0, true},
		{"0/s", 0, true},
		{"5/", 0, true},
		{"5/0s", 0, true},
		{"200000/s", 0, true},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && r.PerSecond() != tt.perSec {
			t.Errorf("ParseRate(%q) = %v/s, want %v/s", tt.in, r.PerSecond(), tt.perSec)
		}
	}
}

func TestErrorPosition(t *testing.T) {
	_, err := Parse("s.yaml", []byte("name: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\nload:\n  chains: -3\n"))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *scenarios.Error", err)
	}
	if se.File != "s.yaml" || se.Line != 5 || se.Column != 11 {
		t.Errorf("error at %s:%d:%d, want s.yaml:5:11", se.File, se.Line, se.Column)
	}
}

// FuzzParse checks that no input makes the loader panic, that every
// failure is a *Error, and that what it accepts is usable.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("name: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\nload: {rate: 5/s}\n"))
	f.Add([]byte("name: [x\n"))
	f.Add([]byte("load:\n  mix: {refresh: -1}\n"))
	f.Add([]byte("\ufeffname: [x]\nlod: 1\n- a\n"))
	f.Add([]byte("old: {<<: {version: v1.11.10}, kind: hydra}\n\"name\": x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *scenarios.Error", err, err)
			}
			return
		}
		if s.Load.RatePer.PerSecond() <= 0 || s.Load.Dur <= 0 || s.Load.Warm >= s.Load.Dur || s.Seed.Clients < 1 {
			t.Fatalf("accepted an unusable scenario: %+v", s.Load)
		}
	})
}

func TestDocumentMarkers(t *testing.T) {
	body := "name: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\n"
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"plain", body, true},
		{"leading marker", "# a scenario\n---\n" + body, true},
		{"trailing marker", body + "---\n", true},
		{"two documents", body + "---\nname: y\n", false},
	}
	for _, tt := range tests {
		_, err := Parse("s.yaml", []byte(tt.yaml))
		if (err == nil) != tt.ok {
			t.Errorf("%s: Parse error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestStrictScalars(t *testing.T) {
	base := "name: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\n"
	tests := []struct {
		yaml, want string // want "" for no error
	}{
		{"seed:\n  clients: 3\n", ""},
		{"seed:\n  clients: 2.9\n", "s.yaml:5:12: seed.clients: want a whole number, got 2.9"},
		{"load:\n  chains: \"5\"\n", `s.yaml:5:11: load.chains: want a whole number, got "5"`},
		{"load:\n  calibrate: \"yes\"\n", `s.yaml:5:14: load.calibrate: want true or false, got "yes"`},
		{"load:\n  mix: {refresh: 2.5}\n", "s.yaml:5:18: load.mix.refresh: want a whole number, got 2.5"},
		{"gates:\n  max_error_rate: 1\n", ""},
		{"gates:\n  max_error_rate: \"0.1\"\n", `s.yaml:5:19: gates.max_error_rate: want a number, got "0.1"`},
		{"seed: 5\n", "s.yaml:4:7: seed: want a mapping (key: value), got 5"},
		{"verify:\n  tables: t\n", "s.yaml:5:11: verify.tables: want a list, got t"},
		{"load:\n  mix:\n", ""},
		{"seed:\n  clients: 0x10\n", ""}, // YAML 1.2 hexadecimal, 16
		{"load:\n  rate: {per_second: 40}\n", "s.yaml:5:9: load.rate: want text, got a mapping"},
		{"verify:\n  tables:\n    - {table: t, key: [[id]]}\n",
			"s.yaml:6:24: verify.tables[0].key[0]: want text, got a list"},
		{"sessions:\n  expected: {a: 1}\n", "s.yaml:5:13: sessions.expected: want a list, got a mapping"},
		{"load:\n  mix: [refresh]\n", "s.yaml:5:8: load.mix: want a mapping (key: value), got a list"},
		{"seed:\n  clients: {n: 1}\n", "s.yaml:5:12: seed.clients: want a whole number, got a mapping"},
		{"load:\n  chains: " + strings.TrimSpace(strings.Repeat("many ", 20)) + "\n",
			"s.yaml:5:11: load.chains: want a whole number, got many many many many many many many many…"},
		{"load:\n  chains: |\n    5\n", "s.yaml:5:11: load.chains: want a whole number, got a block of text"},
	}
	for _, tt := range tests {
		_, err := Parse("s.yaml", []byte(base+tt.yaml))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tt.yaml, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%q: got %v, want %s", tt.yaml, err, tt.want)
		}
	}
}

// TestDocumentShape checks mistakes in the shape of the whole
// document and of text keys. A list where a name was due used to be
// reported without the key ("1:7: want a string, got a list"), and a
// list for the whole scenario with an empty key ("1:1: : want …").
func TestDocumentShape(t *testing.T) {
	const sides = "old: {version: v1.11.10}\nnew: {version: v2.3.0}\n"
	tests := []struct {
		name, yaml, want string // want "" for no error
	}{
		{"name is a list", "name: [x]\n" + sides, "s.yaml:1:7: name: want text, got a list"},
		{"name is a mapping", "name:\n  first: x\n" + sides, "s.yaml:2:8: name: want text, got a mapping"},
		{"name is a number", "name: 5\n" + sides, ""},
		{"scenario is a list", "- name: x\n  old: {version: v1.11.10}\n",
			"s.yaml:1:1: the scenario: want a mapping (key: value lines), got a list"},
		{"scenario is text", "hello\n", "s.yaml:1:1: the scenario: want a mapping (key: value lines), got hello"},
		{"name is blank", "name: \"  \"\n" + sides, "s.yaml:1:7: name: must be one line of text"},
		{"name has a newline", "name: |\n  a\n  b\n" + sides, "s.yaml:1:7: name: must be one line of text"},
		{"name is empty", "name: ''\n" + sides, "s.yaml:1:7: name: must not be empty"},
		{"quoted keys", "\"name\": x\n'old': {version: v1.11.10}\nnew: {version: v2.3.0}\n", ""},
		{"merge key", "name: x\nold: {<<: {version: v1.11.10}, kind: hydra}\nnew: {version: v2.3.0}\n", ""},
		{"unknown key in a merge", "name: x\nold: {<<: {version: v1.11.10, colour: red}}\nnew: {version: v2.3.0}\n",
			"s.yaml:2:31: old.colour: unknown field; known: binary, env, image, kind, version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse(%q): unexpected error %v", tt.yaml, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Parse(%q): got %v, want %s", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestUnknownKeyInDocumentOrder checks that of several unknown keys the
// first in the file is reported, every time. The decoder reported any
// one of them, so the message changed from run to run.
func TestUnknownKeyInDocumentOrder(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"top level", "name: x\nzeta: 1\nold: {version: v1.11.10}\nalpha: 2\nmid: 3\n",
			"s.yaml:2:1: zeta: unknown field; known: database, description, gates, load, migration, " +
				"name, new, old, seed, sessions, verify, window"},
		{"nested", "name: x\nload:\n  rate: 5/s\n  rps: 5\n  zz: 1\n  aa: 2\n",
			"s.yaml:4:3: load.rps: unknown field; known: calibrate, chains, duration, mix, pacing, rate, " +
				"seed, subjects, timeout, warmup"},
		{"before a type mistake", "name: x\nload: {rps: 5, chains: many}\n",
			"s.yaml:2:8: load.rps: unknown field; known: calibrate"},
		{"inlined keys are known", "name: x\nverify:\n  tables:\n    - {table: t, key: [id], old_tablee: u}\n",
			"s.yaml:4:29: verify.tables[0].old_tablee: unknown field; known: convert, expect, fingerprint_key, " +
				"ignore, key, normalize, old_sql, old_table, rename, table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				_, err := Parse("s.yaml", []byte(tt.yaml))
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("Parse(%q): got %v, want an error starting %s", tt.yaml, err, tt.want)
				}
			}
		})
	}
}

// TestByteOrderMark checks that a leading UTF-8 byte-order mark, which
// YAML allows, is skipped. It was read as part of the first key
// (unknown field "\ufeffname").
func TestByteOrderMark(t *testing.T) {
	s, err := Parse("s.yaml", []byte("\ufeffname: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Name != "x" {
		t.Errorf("name: got %q, want x", s.Name)
	}
	if _, err := Parse("s.yaml", []byte("\ufeff\n")); err == nil || err.Error() != "s.yaml: scenario is empty" {
		t.Errorf("Parse(BOM only): got %v, want s.yaml: scenario is empty", err)
	}
	if _, err := ParseMapping("m.yaml", []byte("\ufefftables:\n  - {table: t, key: [id]}\n")); err != nil {
		t.Errorf("ParseMapping: %v", err)
	}
}
