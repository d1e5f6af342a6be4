package scenarios

import "time"

// A Scenario describes one upgrade check end to end.
type Scenario struct {
	// Name identifies the scenario in reports.
	Name string `yaml:"name"`
	// Description is free text shown in reports.
	Description string `yaml:"description"`
	// Old is the server version running today (blue).
	Old Server `yaml:"old"`
	// New is the server version to cut over to (green).
	New Server `yaml:"new"`
	// Database describes the PostgreSQL both servers use.
	Database Database `yaml:"database"`
	// Seed is the state created through the old server's APIs before
	// any load: clients, sessions and tokens the checks follow.
	Seed Seed `yaml:"seed"`
	// Load is the traffic replayed against both servers.
	Load Traffic `yaml:"load"`
	// Verify lists the tables compared row by row.
	Verify Verify `yaml:"verify"`
	// Gates are the bounds that decide the verdict.
	Gates Gates `yaml:"gates"`
	// Sessions tunes the behavioural session checks.
	Sessions Sessions `yaml:"sessions"`
	// Migration adds steps to the blue-green migration.
	Migration Migration `yaml:"migration"`
	// Window keeps the old server serving between the clone and the
	// cutover, as a real blue-green migration does.
	Window Window `yaml:"window"`

	// File is the path the scenario was read from, or "builtin:NAME"
	// for the embedded flagship.
	File string `yaml:"-"`
}

// A Server is one side of the upgrade.
type Server struct {
	// Kind is the server family; only "hydra" is known.
	Kind string `yaml:"kind"`
	// Version is the server's release, for example "v1.11.10".
	Version string `yaml:"version"`
	// Image is the container image used by the docker provider.
	Image string `yaml:"image"`
	// Binary is a path to a prebuilt server binary used by the process
	// provider. Empty means cutover builds the version itself.
	Binary string `yaml:"binary"`
	// Env holds extra environment variables for the server, applied
	// after cutover's own (URLs, ports, DSN and secrets).
	Env map[string]string `yaml:"env"`
}

// Database describes the PostgreSQL server.
type Database struct {
	// Image is the container image used by the docker provider.
	Image string `yaml:"image"`
}

// Seed is the state created on the old server before the load.
type Seed struct {
	// Clients is the number of OAuth clients created (1 to 1000).
	Clients int `yaml:"clients"`
	// Sessions is the number of authorization-code flows run, each
	// leaving an access and a refresh token (0 to 10000).
	Sessions int `yaml:"sessions"`
	// ClientCredentialsTokens is the number of client_credentials
	// tokens issued (0 to 10000).
	ClientCredentialsTokens int `yaml:"client_credentials_tokens"`
	// Revoked is how many of the seeded tokens are revoked on the old
	// server before the cutover; they must stay inactive on the new.
	Revoked int `yaml:"revoked"`
}

// Traffic is the load replayed against each side.
type Traffic struct {
	// Seed makes the request sequence reproducible: both sides get the
	// same sequence for the same seed.
	Seed int64 `yaml:"seed"`
	// Rate is the constant request rate, as "N/s", "N/m" or "N/100ms".
	Rate string `yaml:"rate"`
	// Duration is how long the load runs on each side.
	Duration string `yaml:"duration"`
	// Warmup is the start of the load left out of resource figures.
	Warmup string `yaml:"warmup"`
	// Timeout bounds each request.
	Timeout string `yaml:"timeout"`
	// Chains is the number of refresh-token chains the load rotates.
	Chains int `yaml:"chains"`
	// Mix weighs the operations (see Operations). Weights are relative
	// and non-negative.
	Mix map[string]int `yaml:"mix"`
	// Calibrate loads the old server a second time (A/A) to measure
	// the noise floor of every metric; gates may then bound a
	// regression relative to it. It doubles the old side's load time.
	Calibrate bool `yaml:"calibrate"`
	// Pacing shapes the rate over time; without it the rate is
	// constant.
	Pacing Pacing `yaml:"pacing"`
	// Subjects is the number of distinct users authorization_code
	// operations log in as (1 to 100000; default 100).
	Subjects int `yaml:"subjects"`

	// Parsed values, filled in by validation.
	RatePer  Rate          `yaml:"-"`
	Dur      time.Duration `yaml:"-"`
	Warm     time.Duration `yaml:"-"`
	Deadline time.Duration `yaml:"-"`
}

// A Rate is Freq requests every Per.
type Rate struct {
	Freq int
	Per  time.Duration
}

// PerSecond returns the rate in requests per second.
func (r Rate) PerSecond() float64 {
	if r.Per <= 0 {
		return 0
	}
	return float64(r.Freq) / r.Per.Seconds()
}

// Verify lists the tables compared between the old and new database.
type Verify struct {
	// IgnoreColumns are left out of every table's comparison, for
	// example columns the new schema adds such as "nid".
	IgnoreColumns []string `yaml:"ignore_columns"`
	// Tables are compared row by row on their keys. Tables not listed
	// are compared by row count only.
	Tables []Table `yaml:"tables"`
}

// A Table is one keyed comparison.
type Table struct {
	// Table is the table's name, the same on both sides.
	Table string `yaml:"table"`
	// Key lists the columns that identify a row on both sides.
	Key []string `yaml:"key"`
	// Ignore lists further columns left out for this table.
	Ignore []string `yaml:"ignore"`
	// Convert names, per column whose type the migration changed, the
	// conversion that makes old and new values comparable. Known:
	// pipe_list (a "|"-separated text list that became a JSON array).
	// It is the older spelling of Normalize; both may be used.
	Convert map[string]string `yaml:"convert"`

	// The mapping's further keys; see mapping.go.
	TableMapping `yaml:",inline"`
}

// Gates bound what the check tolerates. A negative bound disables the
// gate.
type Gates struct {
	// MaxErrorRate is the highest fraction of failed requests on the
	// new side, from 0 to 1.
	MaxErrorRate float64 `yaml:"max_error_rate"`
	// MaxP95RegressionPct is how much worse, in percent, the new P95
	// latency may be than the old.
	MaxP95RegressionPct float64 `yaml:"max_p95_regression_pct"`
	// MaxMissingRows is how many old rows may be absent on the new side.
	MaxMissingRows int `yaml:"max_missing_rows"`
	// MaxExtraRows is how many rows the new side may hold that the old
	// did not and the mapping does not expect.
	MaxExtraRows int `yaml:"max_extra_rows"`
	// MaxChangedRows is how many rows may differ across the change.
	MaxChangedRows int `yaml:"max_changed_rows"`
	// MaxSessionMismatches is how many sessions may behave differently.
	MaxSessionMismatches int `yaml:"max_session_mismatches"`
	// Metrics bound single metrics; see [MetricGate].
	Metrics []MetricGate `yaml:"metrics"`
}

// Operations lists the load operations a mix may weigh, in the order
// cutover draws them.
var Operations = []string{"client_credentials", "refresh", "introspect", "revoke",
	"authorization_code", "revoke_refresh", "jwks", "discovery"}

// Sessions tunes the session checks.
type Sessions struct {
	// Expected lists differences in the read endpoints' answers that are
	// known and accepted, each with its reason. They are reported as
	// expected instead of flagged.
	Expected []ExpectedDiff `yaml:"expected"`
}

// An ExpectedDiff accepts differences in some fields of one read
// endpoint's answer.
type ExpectedDiff struct {
	// Endpoint is "discovery", "jwks" or "client".
	Endpoint string `yaml:"endpoint"`
	// Fields are dotted paths into the answer with * wildcards, e.g.
	// "body.keys.*.kid"; a path also covers everything below it.
	Fields []string `yaml:"fields"`
	// Reason says why the difference is expected; it is shown in reports.
	Reason string `yaml:"reason"`
}

// ReadEndpoints are the read endpoints compared old against new.
var ReadEndpoints = []string{"discovery", "jwks", "client"}

// Migration adds steps to the blue-green migration.
type Migration struct {
	// AfterSQL is SQL run on the green database, as its owner, right after
	// the new server's migrations: the fix-ups a runbook applies before
	// cutting over. Its effect is part of what verify and the session
	// checks see.
	AfterSQL string `yaml:"after_sql"`
}

// Window is the write window: the old server keeps serving between the
// clone and the cutover, so writes made then are missing on the new
// database unless they are replayed.
type Window struct {
	// Duration is how long traffic continues on the old server after the
	// clone; empty or 0s means no window (the old server stops first).
	Duration string `yaml:"duration"`
	// Revocations is how many tokens, issued before the clone, are
	// revoked on the old server during the window (0 to 1000).
	Revocations int `yaml:"revocations"`
	// Replay applies the window's revocations to the new database before
	// the session checks (see cutover replay-revocations). Default true.
	Replay *bool `yaml:"replay"`

	// Dur is Duration, parsed by validation.
	Dur time.Duration `yaml:"-"`
}

// Replays reports whether the window's revocations are replayed.
func (w Window) Replays() bool { return w.Replay == nil || *w.Replay }
