package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// checkScalars walks the YAML tree of a document alongside the Go type
// it decodes into and rejects values the decoder would quietly bend: a
// fraction in a count (2.9 read as 2), a quoted number in a count ("5"),
// anything but true or false in a flag. path names the node in errors,
// in YAML terms ("load.chains").
func checkScalars(name string, node ast.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := node.(type) {
	case nil:
		return nil
	case *ast.DocumentNode:
		return checkScalars(name, n.Body, t, path)
	case *ast.TagNode:
		return checkScalars(name, n.Value, t, path)
	case *ast.AnchorNode:
		return checkScalars(name, n.Value, t, path)
	case *ast.NullNode, *ast.AliasNode:
		return nil
	}
	_, isMap := node.(*ast.MappingNode)
	if _, one := node.(*ast.MappingValueNode); one {
		isMap = true
	}
	_, isSeq := node.(*ast.SequenceNode)
	switch k := t.Kind(); {
	case (k == reflect.Struct || k == reflect.Map) && !isMap:
		return scalarError(name, node, path, "a mapping (key: value)")
	case (k == reflect.Slice || k == reflect.Array) && !isSeq:
		return scalarError(name, node, path, "a list")
	}
	switch t.Kind() {
	case reflect.Struct:
		return eachPair(name, node, path, func(key string, v ast.Node, p string) error {
			if f, ok := fieldByTag(t, key); ok {
				return checkScalars(name, v, f.Type, p)
			}
			return nil // unknown keys are the decoder's to report
		})
	case reflect.Map:
		return eachPair(name, node, path, func(_ string, v ast.Node, p string) error {
			return checkScalars(name, v, t.Elem(), p)
		})
	case reflect.Slice, reflect.Array:
		for i, v := range node.(*ast.SequenceNode).Values {
			if err := checkScalars(name, v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, ok := node.(*ast.IntegerNode); !ok {
			return scalarError(name, node, path, "a whole number")
		}
	case reflect.Float32, reflect.Float64:
		switch node.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		default:
			return scalarError(name, node, path, "a number")
		}
	case reflect.Bool:
		if _, ok := node.(*ast.BoolNode); !ok {
			return scalarError(name, node, path, "true or false")
		}
	}
	return nil
}

// eachPair calls fn for every key and value of a mapping node.
func eachPair(name string, node ast.Node, path string, fn func(key string, v ast.Node, p string) error) error {
	var pairs []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	default:
		return nil
	}
	for _, mv := range pairs {
		key := strings.TrimSpace(mv.Key.String())
		p := key
		if path != "" {
			p = path + "." + key
		}
		if err := fn(key, mv.Value, p); err != nil {
			return err
		}
	}
	return nil
}

// fieldByTag returns the field of struct t whose yaml tag names key,
// looking into embedded structs.
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case tag == "-":
			continue
		case f.Anonymous && tag == "":
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if g, ok := fieldByTag(ft, key); ok {
					return g, true
				}
			}
		case tag == key || tag == "" && strings.EqualFold(f.Name, key):
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func scalarError(name string, node ast.Node, path, want string) error {
	e := &Error{File: name, Msg: fmt.Sprintf("%s: want %s, got %s", path, want, strings.TrimSpace(node.String()))}
	if tok := node.GetToken(); tok != nil {
		e.Line, e.Column = tok.Position.Line, tok.Position.Column
	}
	return e
}
