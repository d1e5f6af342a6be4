package reports_test

import (
	"os"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/reports"
)

func ExampleJUnit() {
	r := &reports.Report{Scenario: "demo", Verdict: reports.Fail, Gates: []compare.Gate{
		{Name: "error_rate", Passed: true, Detail: "new error rate 0.10% (limit 1.00%)"},
		{Name: "missing_rows", Passed: false, Detail: "2 rows missing on the new side (limit 0)"},
	}}
	reports.JUnit(os.Stdout, r)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <testsuites name="cutover" tests="2" failures="1" errors="0">
	//   <testsuite name="cutover.demo" tests="2" failures="1" errors="0" skipped="0" time="0">
	//     <testcase name="error_rate" classname="cutover.gates" time="0">
	//       <system-out>new error rate 0.10% (limit 1.00%)</system-out>
	//     </testcase>
	//     <testcase name="missing_rows" classname="cutover.gates" time="0">
	//       <failure message="2 rows missing on the new side (limit 0)" type="gate">2 rows missing on the new side (limit 0)</failure>
	//       <system-out>2 rows missing on the new side (limit 0)</system-out>
	//     </testcase>
	//   </testsuite>
	// </testsuites>
}
