package reports

import (
	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/replay"
	"github.com/cutover-dev/cutover/verify"
)

// SchemaVersion is the version of the JSON report's layout.
const SchemaVersion = 1

// Verdicts.
const (
	Pass = "pass"
	Fail = "fail"
)

// A Report is everything a run found.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Scenario      string `json:"scenario"`
	// Verdict is "pass" when every gate passed, else "fail".
	Verdict string `json:"verdict"`
	// Partial is true when the run ended early (interrupted or failed)
	// and the report holds only what was measured until then.
	Partial bool `json:"partial,omitempty"`
	// Error says why a partial run ended.
	Error string `json:"error,omitempty"`

	Old Side `json:"old"`
	New Side `json:"new"`
	// Load describes the traffic replayed against both sides.
	Load Load `json:"load"`

	Metrics []compare.Metric `json:"metrics"`
	// Stats are the statistical settings behind the metrics' intervals
	// and verdicts.
	Stats *compare.Options `json:"stats,omitempty"`
	// Calibration compares the old side with a second load of itself
	// (A/A): the noise floor. Empty without a calibration run.
	Calibration []compare.Metric `json:"calibration,omitempty"`
	// Series are the time series behind the metrics, for plots; they
	// are written to their own file (samples.json), not to report.json.
	Series     *Samples    `json:"-"`
	Operations []Operation `json:"operations,omitempty"`
	Migration  Migration   `json:"migration"`
	Verify     Verify      `json:"verify"`
	Sessions   Sessions    `json:"sessions"`
	// Window is the write window, when the scenario has one.
	Window *Window        `json:"window,omitempty"`
	Gates  []compare.Gate `json:"gates"`
	// Comparison says where the report of a comparison of saved runs
	// (cutover compare) came from; nil for a run.
	Comparison *Comparison `json:"comparison,omitempty"`
}

// Comparison names the two saved runs a report compares, and the
// scenario whose gates applied. The report's Scenario is then that
// scenario.
type Comparison struct {
	// BeforeDir and AfterDir are the run directories as given; the
	// sides are "old" or "new".
	BeforeDir  string `json:"before_dir"`
	BeforeSide string `json:"before_side"`
	AfterDir   string `json:"after_dir"`
	AfterSide  string `json:"after_side"`
	// BeforeScenario and AfterScenario are the scenarios the two runs
	// were made with.
	BeforeScenario string `json:"before_scenario"`
	AfterScenario  string `json:"after_scenario"`
	// GatesScenario is the scenario whose gates applied.
	GatesScenario string `json:"gates_scenario"`
	// FindingsFrom is where the row and session findings come from:
	// AfterDir's saved report.
	FindingsFrom string `json:"findings_from"`
}

// A Side names one server.
type Side struct {
	Kind     string `json:"kind"`
	Version  string `json:"version"`
	Provider string `json:"provider"`
	// BrokenChains counts refresh chains that saw a failed refresh
	// during this side's load.
	BrokenChains int `json:"broken_chains"`
	// Errors counts the distinct request errors seen on this side.
	Errors map[string]int `json:"errors,omitempty"`
	// Late counts requests that left more than 10 ms after their
	// intended send time, Dropped those scheduled but never sent, and
	// MaxLatenessMS is the longest a request waited to leave: a stalled
	// server shows here, not in the latency of the requests answered.
	Late          int64   `json:"late"`
	Dropped       int64   `json:"dropped"`
	MaxLatenessMS float64 `json:"max_lateness_ms"`
}

// Load describes the replayed traffic.
type Load struct {
	Seed       int64          `json:"seed"`
	RatePerSec float64        `json:"rate_per_sec"`
	DurationS  float64        `json:"duration_s"`
	WarmupS    float64        `json:"warmup_s"`
	Mix        map[string]int `json:"mix"`
}

// An Operation is the latency of one kind of request on both sides.
type Operation struct {
	Op       string     `json:"op"`
	Requests [2]int     `json:"requests"`
	Failed   [2]int     `json:"failed"`
	P50MS    [2]float64 `json:"p50_ms"`
	P95MS    [2]float64 `json:"p95_ms"`
}

// Migration is what the schema migration did.
type Migration struct {
	DurationMS int64                `json:"duration_ms"`
	Tables     []verify.TableWrites `json:"tables"`
}

// Verify is the row-level comparison, as verify returns it.
type Verify = verify.TablesResult

// Sessions is the behavioural check of sessions issued before cutover.
type Sessions struct {
	Checked    int               `json:"checked"`
	Mismatched int               `json:"mismatched"`
	Mismatches []verify.Mismatch `json:"mismatches,omitempty"`
	// Expected lists the differences between the versions that are
	// normalised away, with the reason.
	Expected []Expected `json:"expected,omitempty"`
	// Endpoints compares the answers of read endpoints, old against new,
	// after an old-against-old calibration.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// EndpointDiffs counts the flagged differences of all endpoints.
	EndpointDiffs int `json:"endpoint_diffs"`
	// Rows is the database-level session check of every token row,
	// old against new (see verify.SessionRows).
	Rows *verify.SessionRowsResult `json:"rows,omitempty"`
}

// BrokenCount is the number of sessions the database-level check found
// broken, 0 when it did not run.
func (s Sessions) BrokenCount() int64 {
	if s.Rows == nil {
		return 0
	}
	return int64(len(s.Rows.Broken))
}

// An ExpectedField is a differing field with the reason it is expected.
type ExpectedField struct {
	verify.FieldDiff
	Reason string `json:"reason"`
}

// Expected is a known difference between the versions.
type Expected struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// An Endpoint is the comparison of one read endpoint's answers.
type Endpoint struct {
	Name string `json:"name"`
	// Noise lists the fields that differed between two answers of the
	// old server; they are not compared.
	Noise []string `json:"noise,omitempty"`
	// Diffs lists the fields that differ between old and new and that
	// the scenario does not expect: flagged differences.
	Diffs []verify.FieldDiff `json:"diffs,omitempty"`
	// Expected lists the differing fields the scenario expects.
	Expected []ExpectedField `json:"expected,omitempty"`
	// Error is set when the new server could not answer.
	Error string `json:"error,omitempty"`
}

// Passed reports whether every gate passed and the run was complete.
func (r *Report) Passed() bool {
	return !r.Partial && compare.Passed(r.Gates)
}

// Window is what happened while the old server kept serving after the
// clone.
type Window struct {
	DurationS float64 `json:"duration_s"`
	// Requests is the traffic sent to the old server during the window.
	Requests int `json:"requests"`
	// LostWrites counts, per token table, the rows written during the
	// window that the new database lacks.
	LostWrites []verify.TableCount `json:"lost_writes"`
	// RevokedSessions counts the sessions revoked during the window that
	// were still active in the new database.
	RevokedSessions int `json:"revoked_sessions"`
	// RevokedByCheck is how many tokens cutover itself revoked in the
	// window; ActiveBeforeReplay and ActiveAfterReplay say how many of
	// them the new server took for active.
	RevokedByCheck     int  `json:"revoked_by_check"`
	ActiveBeforeReplay int  `json:"active_before_replay"`
	ActiveAfterReplay  *int `json:"active_after_replay,omitempty"`
	// Replayed is what the replay changed, when it ran.
	Replayed *replay.Result `json:"replayed,omitempty"`
}
