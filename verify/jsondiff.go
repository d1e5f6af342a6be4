package verify

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// A FieldDiff is one field that differs between two JSON answers.
// Values are shown as JSON, cut to 80 characters.
type FieldDiff struct {
	Path   string `json:"path"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Flatten maps every leaf of a decoded JSON value to its path, such as
// "keys.0.kid" or "grant_types". Empty objects and arrays are leaves.
func Flatten(v any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		join := func(k string) string {
			if prefix == "" {
				return k
			}
			return prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out[prefix] = "{}"
			}
			for k, e := range x {
				walk(join(k), e)
			}
		case []any:
			if len(x) == 0 {
				out[prefix] = "[]"
			}
			for i, e := range sortedScalars(x) {
				walk(join(fmt.Sprint(i)), e)
			}
		default:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out
}

// Noise returns the paths whose values differ between two answers of
// the same server to the same request: timestamps, random identifiers.
func Noise(a, b any) []string {
	var out []string
	for _, d := range DiffJSON(a, b, nil) {
		out = append(out, d.Path)
	}
	return out
}

// DiffJSON compares two decoded JSON answers field by field. A path
// matching one of the ignore patterns (path.Match syntax on the dotted
// path, e.g. "keys.*.kid" or "created_at") is left out.
func DiffJSON(before, after any, ignore []string) []FieldDiff {
	a, b := Flatten(before), Flatten(after)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []FieldDiff
	for k := range keys {
		if ignored(k, ignore) {
			continue
		}
		va, oka := a[k]
		vb, okb := b[k]
		if oka && okb && va == vb {
			continue
		}
		if !oka {
			va = "(absent)"
		}
		if !okb {
			vb = "(absent)"
		}
		out = append(out, FieldDiff{Path: k, Before: cut(va), After: cut(vb)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// MatchPath reports whether a dotted path matches one of the patterns
// (path.Match syntax per segment, e.g. "keys.*.kid"); a pattern also
// covers everything below it.
func MatchPath(p string, patterns []string) bool { return ignored(p, patterns) }

func ignored(p string, patterns []string) bool {
	for _, pat := range patterns {
		if pat == p {
			return true
		}
		if ok, _ := path.Match(strings.ReplaceAll(pat, ".", "/"), strings.ReplaceAll(p, ".", "/")); ok {
			return true
		}
		// A pattern also covers everything below it.
		if strings.HasPrefix(p, pat+".") {
			return true
		}
	}
	return false
}

// sortedScalars returns a list of plain values sorted by their JSON
// form, since such lists (scopes, algorithms) are sets; other lists are
// returned as they are.
func sortedScalars(x []any) []any {
	keys := make([]string, len(x))
	for i, e := range x {
		switch e.(type) {
		case map[string]any, []any:
			return x
		}
		b, _ := json.Marshal(e)
		keys[i] = string(b)
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]any, len(x))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
