package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// node is a generic XML element.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n node) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// junitRule is what the common JUnit schema (the junit-10.xsd that
// Jenkins' xUnit plugin and most CI systems accept) allows for one
// element: its children, its attributes and which attributes are
// required. The schema file itself is not vendored here; this table
// restates its structure.
type junitRule struct {
	children, attrs, required []string
}

var junitSchema = map[string]junitRule{
	"testsuites": {children: []string{"testsuite"},
		attrs: []string{"name", "time", "tests", "failures", "disabled", "errors"}},
	"testsuite": {children: []string{"testsuite", "properties", "testcase", "system-out", "system-err"},
		attrs: []string{"name", "tests", "failures", "errors", "time", "disabled", "skipped", "skips",
			"timestamp", "hostname", "id", "package", "assertions", "file", "skip", "log", "url"},
		required: []string{"tests"}},
	"properties": {children: []string{"property"}},
	"property":   {attrs: []string{"name", "value"}, required: []string{"name", "value"}},
	"testcase": {children: []string{"skipped", "error", "failure", "system-out", "system-err"},
		attrs: []string{"name", "assertions", "time", "timestamp", "classname", "status", "class", "file",
			"line", "log", "group", "url"},
		required: []string{"name"}},
	"failure":    {attrs: []string{"type", "message"}},
	"error":      {attrs: []string{"type", "message"}},
	"skipped":    {attrs: []string{"type", "message"}},
	"system-out": {},
	"system-err": {},
}

func checkJUnit(t *testing.T, n node, path string) {
	t.Helper()
	name := n.XMLName.Local
	rule, ok := junitSchema[name]
	if !ok {
		t.Errorf("%s: element %q is not in the JUnit schema", path, name)
		return
	}
	for _, a := range n.Attrs {
		if !slices.Contains(rule.attrs, a.Name.Local) {
			t.Errorf("%s: attribute %q is not allowed on %s", path, a.Name.Local, name)
		}
	}
	for _, r := range rule.required {
		if _, ok := n.attr(r); !ok {
			t.Errorf("%s: required attribute %q is missing", path, r)
		}
	}
	for _, c := range n.Children {
		if !slices.Contains(rule.children, c.XMLName.Local) {
			t.Errorf("%s: child %q is not allowed in %s", path, c.XMLName.Local, name)
			continue
		}
		checkJUnit(t, c, path+"/"+c.XMLName.Local)
	}
}

func TestJUnitSchema(t *testing.T) {
	for _, tt := range []struct {
		name    string
		partial bool
	}{{"complete", false}, {"partial", true}} {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture()
			if tt.partial {
				r.Partial, r.Error = true, "loading new server: context canceled"
			}
			var b bytes.Buffer
			if err := JUnit(&b, r); err != nil {
				t.Fatal(err)
			}
			var root node
			if err := xml.Unmarshal(b.Bytes(), &root); err != nil {
				t.Fatalf("junit is not XML: %v", err)
			}
			if root.XMLName.Local != "testsuites" {
				t.Fatalf("root element = %q, want testsuites", root.XMLName.Local)
			}
			checkJUnit(t, root, "testsuites")

			// One test case per gate (and one for a partial run), with
			// counts that match the cases.
			suite := root.Children[0]
			var cases, failures, errs int
			for _, c := range suite.Children {
				if c.XMLName.Local != "testcase" {
					continue
				}
				cases++
				for _, p := range c.Children {
					failures += btoi(p.XMLName.Local == "failure")
					errs += btoi(p.XMLName.Local == "error")
				}
			}
			wantCases := len(r.Gates) + btoi(tt.partial)
			wantFail := 0
			for _, g := range r.Gates {
				wantFail += btoi(!g.Passed)
			}
			counts := map[string]int{"tests": wantCases, "failures": wantFail, "errors": btoi(tt.partial)}
			for attr, want := range counts {
				got, _ := suite.attr(attr)
				if got != strconv.Itoa(want) {
					t.Errorf("testsuite %s = %q, want %d", attr, got, want)
				}
			}
			if cases != wantCases || failures != wantFail || errs != btoi(tt.partial) {
				t.Errorf("got %d cases, %d failures, %d errors; want %d, %d, %d",
					cases, failures, errs, wantCases, wantFail, btoi(tt.partial))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestJUnitValidates checks cutover's JUnit files with xmllint against
// the schema in testdata/junit.xsd (the format as CI systems read it),
// and that the schema rejects what those readers would: a test case
// without a name, a count that is not a number.
func TestJUnitValidates(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found on PATH; install Debian's package: apt-get install -y libxml2-utils (%v)", err)
	}
	schema, err := filepath.Abs(filepath.Join("testdata", "junit.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	complete := fixture()
	partial := fixture()
	partial.Partial, partial.Error = true, "loading new server: context canceled"
	render := func(r *Report) string {
		var b bytes.Buffer
		if err := JUnit(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	good := render(complete)
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"complete", good, true},
		{"partial", render(partial), true},
		{"no gates", render(&Report{Scenario: "empty"}), true},
		{"case without a name", strings.Replace(good, `<testcase name="error_rate"`, `<testcase`, 1), false},
		{"count not a number", regexp.MustCompile(`tests="\d+"`).ReplaceAllString(good, `tests="seven"`), false},
		{"unknown element", strings.Replace(good, `<properties>`, `<props></props><properties>`, 1), false},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.doc == good && i > 0 {
				t.Fatal("the mutation did not change the document")
			}
			f := filepath.Join(dir, fmt.Sprintf("junit-%d.xml", i))
			if err := os.WriteFile(f, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--noout", "--schema", schema, f).CombinedOutput()
			if valid := err == nil; valid != tt.valid {
				t.Errorf("xmllint valid = %v, want %v:\n%s", valid, tt.valid, out)
			}
		})
	}
}
