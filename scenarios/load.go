package scenarios

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

//go:embed hydra-1.11-to-2.3.yaml
var flagship []byte

// DefaultName is the name of the embedded flagship scenario.
const DefaultName = "hydra-1.11-to-2.3"

// DefaultYAML returns the text of the embedded flagship scenario.
func DefaultYAML() []byte { return bytes.Clone(flagship) }

// Default returns the embedded flagship scenario, Ory Hydra v1.11.10 to
// v2.3.0.
func Default() *Scenario {
	s, err := Parse("builtin:"+DefaultName+".yaml", flagship)
	if err != nil {
		panic("BUG: embedded scenario does not validate: " + err.Error())
	}
	return s
}

// Load reads and validates the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return Parse(path, data)
}

// An Error is a problem at a place in a scenario file.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the place is unknown
	Column int // 1-based; 0 when the place is unknown
	Msg    string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Parse decodes and validates a scenario. name is used in errors and
// kept in [Scenario.File].
func Parse(name string, data []byte) (*Scenario, error) {
	s := defaults()
	s.File = name
	data = trimBOM(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Msg: "scenario is empty"}
	}
	// The syntax tree first: its checks name the key at fault, where the
	// decoder's type errors name only the value, and report the first
	// unknown key in the file, where the decoder reports any one. The
	// decoder's own check of unknown keys stays as a backstop.
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	if len(file.Docs) > 0 {
		if err := checkTree(name, "the scenario", file.Docs[0], reflect.TypeOf(s)); err != nil {
			return nil, err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	if err := dec.Decode(s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "scenario is empty (only comments)"}
		}
		return nil, yamlError(name, err)
	}
	var more any
	if err := dec.Decode(&more); err == nil && more != nil || err != nil && !errors.Is(err, io.EOF) {
		e := &Error{File: name, Msg: "holds more than one YAML document (---); a scenario is one document"}
		if e.Line = secondDocument(data); e.Line > 0 {
			e.Column = 1
		}
		return nil, e
	}
	if err := validate(s, &locator{name: name, file: file}); err != nil {
		return nil, err
	}
	return s, nil
}

// bom is the UTF-8 byte-order mark, which YAML allows at the start of
// a file and the decoder would read as part of the first key.
var bom = []byte("\ufeff")

// trimBOM returns data without a leading byte-order mark.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, bom) }

// secondDocument returns the line of the separator that starts the
// second YAML document of data, or 0.
func secondDocument(data []byte) int {
	content := false
	for i, line := range strings.Split(string(data), "\n") {
		if line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") {
			if content {
				return i + 1
			}
			continue
		}
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "%") {
			content = true
		}
	}
	return 0
}

func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		p := ye.GetToken().Position
		return &Error{File: name, Line: p.Line, Column: p.Column, Msg: plainType(ye.GetMessage())}
	}
	return &Error{File: name, Msg: plainType(err.Error())}
}

// goType matches the YAML library's type errors, which name Go types
// ("cannot unmarshal string into Go struct field Scenario.Seed of type
// int"); a scenario's author knows YAML, not cutover's structs.
var goType = regexp.MustCompile(`cannot unmarshal (.+?) into Go (?:struct field \S+|value) of type (\S+)`)

// plainType rewrites a type error in the words of YAML: "want an
// integer, got a string".
func plainType(msg string) string {
	m := goType.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := "a " + m[2]
	switch t := m[2]; {
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		want = "an integer"
	case strings.HasPrefix(t, "float"):
		want = "a number"
	case t == "bool":
		want = "true or false"
	case t == "string":
		want = "a string"
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map["):
		want = "a mapping"
	case strings.Contains(t, "."):
		want = "a mapping" // one of cutover's sections
	}
	got := m[1]
	switch got {
	case "string", "bool", "int", "float64", "uint64":
		got = map[string]string{"string": "text", "bool": "true or false", "int": "a number",
			"float64": "a number", "uint64": "a number"}[got]
	case "[]interface {}":
		got = "a list"
	case "map[string]interface {}":
		got = "a mapping"
	}
	return strings.Replace(msg, m[0], "want "+want+", got "+got, 1)
}

// A locator finds the place of a key in the parsed file so that
// validation errors point at the offending value.
type locator struct {
	name string
	file *ast.File
	// prefix, when set, is a path prefix that stands for the document
	// root, as "$.verify" does in a mapping file.
	prefix string
}

// errorf returns an *Error placed at the node for path, a YAML path
// such as "$.load.rate". When the key is absent it falls back to the
// nearest parent that exists.
func (l *locator) errorf(path, format string, args ...any) error {
	e := &Error{File: l.name, Msg: fmt.Sprintf(format, args...)}
	for p := l.local(path); p != "$" && p != ""; p = parent(p) {
		node := l.find(p)
		if node == nil || node.GetToken() == nil {
			continue
		}
		pos := node.GetToken().Position
		e.Line, e.Column = pos.Line, pos.Column
		break
	}
	return e
}

// node returns the node at path, a YAML path with the locator's
// prefix, or nil when the file has none there. A key given no value
// or ~ is a null node, not nil. Paths through an alias (*name) are not
// followed.
func (l *locator) node(path string) ast.Node { return l.find(l.local(path)) }

// local returns path with the locator's prefix replaced by "$".
func (l *locator) local(path string) string {
	if l.prefix != "" && strings.HasPrefix(path, l.prefix) {
		return "$" + strings.TrimPrefix(path, l.prefix)
	}
	return path
}

// find returns the node at path, a YAML path in the file, or nil.
func (l *locator) find(path string) ast.Node {
	yp, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	node, err := yp.FilterFile(l.file)
	if err != nil {
		return nil
	}
	return node
}

func parent(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		switch p[i] {
		case '.':
			return p[:i]
		case '[':
			return p[:i]
		}
	}
	return ""
}
