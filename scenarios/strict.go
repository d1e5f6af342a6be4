package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
)

// checkTree walks the YAML tree of a document alongside the Go type it
// decodes into, in document order, and returns the first mistake the
// decoder would quietly bend or report without naming the key: a
// fraction in a count (2.9 read as 2), a quoted number in a count
// ("5"), anything but true or false in a flag, a list or mapping where
// text is due, and a key the type does not know. name is the file's
// name and root what the document is ("the scenario"), both for
// errors; the paths in errors are in YAML terms ("load.chains").
//
// Values reached through an alias (*name) are not checked; the decoder
// still reports their mistakes, without the key.
func checkTree(name, root string, doc ast.Node, t reflect.Type) error {
	c := &checker{file: name, root: root}
	return c.check(doc, t, "")
}

type checker struct {
	file, root string
}

func (c *checker) check(node ast.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := node.(type) {
	case nil:
		return nil
	case *ast.DocumentNode:
		return c.check(n.Body, t, path)
	case *ast.TagNode:
		return c.check(n.Value, t, path)
	case *ast.AnchorNode:
		return c.check(n.Value, t, path)
	case *ast.NullNode, *ast.AliasNode:
		return nil
	}
	isMap, isSeq := false, false
	switch node.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		isMap = true
	case *ast.SequenceNode:
		isSeq = true
	}
	switch k := t.Kind(); {
	case (k == reflect.Struct || k == reflect.Map) && !isMap:
		if path == "" {
			return c.errorf(node, path, "a mapping (key: value lines)")
		}
		return c.errorf(node, path, "a mapping (key: value)")
	case (k == reflect.Slice || k == reflect.Array) && !isSeq:
		return c.errorf(node, path, "a list")
	}
	switch t.Kind() {
	case reflect.Struct:
		return c.eachPair(node, t, path, func(key ast.Node, name string, v ast.Node, p string) error {
			f, ok := fieldByTag(t, name)
			if !ok {
				e := &Error{File: c.file, Msg: fmt.Sprintf("%s: unknown field; known: %s",
					p, strings.Join(knownKeys(t), ", "))}
				e.Line, e.Column = position(key)
				return e
			}
			return c.check(v, f.Type, p)
		})
	case reflect.Map:
		return c.eachPair(node, t, path, func(_ ast.Node, _ string, v ast.Node, p string) error {
			return c.check(v, t.Elem(), p)
		})
	case reflect.Slice, reflect.Array:
		for i, v := range node.(*ast.SequenceNode).Values {
			if err := c.check(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if isMap || isSeq {
			return c.errorf(node, path, "text")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, ok := node.(*ast.IntegerNode); !ok {
			return c.errorf(node, path, "a whole number")
		}
	case reflect.Float32, reflect.Float64:
		switch node.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		default:
			return c.errorf(node, path, "a number")
		}
	case reflect.Bool:
		if _, ok := node.(*ast.BoolNode); !ok {
			return c.errorf(node, path, "true or false")
		}
	}
	return nil
}

// eachPair calls fn for every key and value of a mapping node of type
// t, with the key's node, its name and the value's path. The entries
// of a merge key (<<) are checked as part of the mapping; keys that are
// not scalars are left to the decoder.
func (c *checker) eachPair(node ast.Node, t reflect.Type, path string,
	fn func(key ast.Node, name string, v ast.Node, p string) error) error {
	var pairs []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	}
	for _, mv := range pairs {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			if err := c.checkMerge(mv.Value, t, path); err != nil {
				return err
			}
			continue
		}
		key, ok := keyName(mv.Key)
		if !ok {
			continue
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		if err := fn(mv.Key, key, mv.Value, p); err != nil {
			return err
		}
	}
	return nil
}

// checkMerge checks the value of a merge key: a mapping, or a list of
// them, merged into a mapping of type t.
func (c *checker) checkMerge(v ast.Node, t reflect.Type, path string) error {
	for {
		switch n := v.(type) {
		case *ast.TagNode:
			v = n.Value
			continue
		case *ast.AnchorNode:
			v = n.Value
			continue
		case *ast.SequenceNode:
			for _, e := range n.Values {
				if err := c.check(e, t, path); err != nil {
					return err
				}
			}
			return nil
		}
		return c.check(v, t, path)
	}
}

// keyName returns the text of a scalar mapping key, without quotes.
func keyName(key ast.Node) (string, bool) {
	for {
		switch n := key.(type) {
		case *ast.TagNode:
			key = n.Value
		case *ast.AnchorNode:
			key = n.Value
		case *ast.MappingKeyNode:
			key = n.Value
		case *ast.StringNode:
			return n.Value, true
		case ast.ScalarNode:
			return fmt.Sprint(n.GetValue()), true
		default:
			return "", false
		}
	}
}

// fieldByTag returns the field of struct t whose yaml tag names key,
// looking into inlined structs.
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := yamlKey(f)
		switch {
		case tag == "-":
			continue
		case tag == "":
			if ft := inlined(f); ft != nil {
				if g, ok := fieldByTag(ft, key); ok {
					return g, true
				}
			}
		case tag == key:
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// knownKeys returns the keys struct t takes in YAML, sorted.
func knownKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		switch tag := yamlKey(f); tag {
		case "-":
		case "":
			if ft := inlined(f); ft != nil {
				keys = append(keys, knownKeys(ft)...)
			}
		default:
			keys = append(keys, tag)
		}
	}
	slices.Sort(keys)
	return keys
}

// yamlKey returns the key of a struct field in YAML as the decoder
// reads it: "-" when it has none, "" when the field is inlined, else
// its tag or its name in lower case.
func yamlKey(f reflect.StructField) string {
	if !f.IsExported() && !f.Anonymous {
		return "-"
	}
	tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch {
	case tag == "-":
		return "-"
	case slices.Contains(strings.Split(opts, ","), "inline"):
		return ""
	case tag != "":
		return tag
	}
	return strings.ToLower(f.Name)
}

// inlined returns the struct type of an inlined field, or nil.
func inlined(f reflect.StructField) reflect.Type {
	ft := f.Type
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft.Kind() != reflect.Struct {
		return nil
	}
	return ft
}

// errorf returns the error for a node at path that is not what is due.
func (c *checker) errorf(node ast.Node, path, want string) error {
	what := path
	if what == "" {
		what = c.root
	}
	e := &Error{File: c.file, Msg: fmt.Sprintf("%s: want %s, got %s", what, want, describe(node))}
	e.Line, e.Column = position(node)
	return e
}

// position returns the line and column of node, or zeros.
func position(node ast.Node) (line, column int) {
	if tok := node.GetToken(); tok != nil && tok.Position != nil {
		return tok.Position.Line, tok.Position.Column
	}
	return 0, 0
}

// maxShown bounds how much of a value an error quotes, in characters.
const maxShown = 40

// describe names a node for an error: its kind for a list, a mapping
// or a block of text, else its text as written, cut short if long.
func describe(node ast.Node) string {
	switch node.(type) {
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.LiteralNode:
		return "a block of text"
	}
	s := strings.TrimSpace(node.String())
	cut := false
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s, cut = strings.TrimSpace(s[:i]), true
	}
	if utf8.RuneCountInString(s) > maxShown {
		r := []rune(s)
		s, cut = string(r[:maxShown]), true
	}
	if cut {
		s = strings.TrimSpace(s) + "…"
	}
	return s
}
