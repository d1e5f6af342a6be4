package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit writes r as JUnit XML, one test case per gate, so that CI
// systems list every gate with its outcome. A partial run adds one
// errored test case that says why the run ended.
func JUnit(w io.Writer, r *Report) error {
	suite := junitSuite{Name: "cutover." + r.Scenario, Time: "0"}
	for _, g := range r.Gates {
		tc := junitCase{Name: g.Name, Classname: "cutover.gates", Time: "0", SystemOut: g.Detail}
		if !g.Passed {
			tc.Failure = &junitProblem{Message: g.Detail, Type: "gate", Text: g.Detail}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if r.Partial {
		suite.Cases = append(suite.Cases, junitCase{Name: "run", Classname: "cutover", Time: "0",
			Error: &junitProblem{Message: "partial run", Type: "run", Text: r.Error}})
		suite.Errors++
	}
	suite.Tests = len(suite.Cases)
	for _, m := range r.Metrics {
		if suite.Properties == nil {
			suite.Properties = &junitProperties{}
		}
		suite.Properties.List = append(suite.Properties.List, junitProperty{Name: "metric." + m.Name,
			Value: strings.TrimSpace(fmt.Sprintf("%s -> %s %s %s", value(m.Unit, m.Before),
				value(m.Unit, m.After), change(m), verdict(m.Verdict)))})
	}
	doc := junitSuites{Name: "cutover", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	List []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}
