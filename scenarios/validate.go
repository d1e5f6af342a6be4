package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover-dev/cutover/verify"
)

// BuildableVersions are the Hydra versions cutover can build from
// source when a server names no binary and no image is used.
var BuildableVersions = []string{"v1.11.10", "v2.3.0"}

// Conversions are the column conversions a verify table may name.
var Conversions = verify.NormalizerNames()

func defaults() *Scenario {
	return &Scenario{
		Old:      Server{Kind: "hydra"},
		New:      Server{Kind: "hydra"},
		Database: Database{Image: "postgres:16"},
		Seed:     Seed{Clients: 4, Sessions: 8, ClientCredentialsTokens: 8, Revoked: 2},
		Load: Traffic{
			Seed: 1, Rate: "40/s", Duration: "30s", Warmup: "5s", Timeout: "10s", Chains: 32, Subjects: 100,
		},
		Verify: Verify{IgnoreColumns: []string{"nid"}},
		Gates: Gates{
			MaxErrorRate: 0.01, MaxP95RegressionPct: 25,
			MaxMissingRows: 0, MaxExtraRows: 0, MaxChangedRows: 0, MaxSessionMismatches: 0,
		},
	}
}

// maxWeight bounds one operation's weight in a mix, so that the sum of
// the weights cannot overflow.
const maxWeight = 1_000_000

// defaultMix is used when a scenario gives no mix.
func defaultMix() map[string]int {
	return map[string]int{"client_credentials": 30, "refresh": 20, "introspect": 40, "revoke": 10}
}

func validate(s *Scenario, l *locator) error {
	if s.Name == "" {
		return l.errorf("$.name", "name: must not be empty")
	}
	if strings.TrimSpace(s.Name) == "" || strings.ContainsAny(s.Name, "\r\n") {
		return l.errorf("$.name", "name: must be one line of text")
	}
	for _, side := range []struct {
		key string
		srv *Server
	}{{"old", &s.Old}, {"new", &s.New}} {
		if err := validateServer(side.key, side.srv, l); err != nil {
			return err
		}
	}
	sd := s.Seed
	switch {
	case sd.Clients < 1 || sd.Clients > 1000:
		return l.errorf("$.seed.clients", "seed.clients: must be between 1 and 1000, got %d", sd.Clients)
	case sd.Sessions < 0 || sd.Sessions > 10000:
		return l.errorf("$.seed.sessions", "seed.sessions: must be between 0 and 10000, got %d", sd.Sessions)
	case sd.ClientCredentialsTokens < 0 || sd.ClientCredentialsTokens > 10000:
		return l.errorf("$.seed.client_credentials_tokens",
			"seed.client_credentials_tokens: must be between 0 and 10000, got %d", sd.ClientCredentialsTokens)
	case sd.Revoked < 0 || sd.Revoked > sd.Sessions+sd.ClientCredentialsTokens:
		return l.errorf("$.seed.revoked", "seed.revoked: must be between 0 and the number of seeded tokens (%d), got %d",
			sd.Sessions+sd.ClientCredentialsTokens, sd.Revoked)
	}
	if err := validateLoad(&s.Load, l); err != nil {
		return err
	}
	for i, t := range s.Verify.Tables {
		p := fmt.Sprintf("$.verify.tables[%d]", i)
		if !isIdent(t.Table) {
			return l.errorf(p+".table", "verify.tables[%d].table: %q is not a table name", i, t.Table)
		}
		if len(t.Key) == 0 {
			return l.errorf(p+".key", "verify.tables[%d].key: must name at least one column", i)
		}
		for _, c := range slices.Concat(t.Key, t.Ignore) {
			if !isIdent(c) {
				return l.errorf(p, "verify.tables[%d]: %q is not a column name", i, c)
			}
		}
		for c, conv := range t.Convert {
			if !isIdent(c) {
				return l.errorf(p+".convert", "verify.tables[%d].convert: %q is not a column name", i, c)
			}
			if !slices.Contains(Conversions, conv) {
				return l.errorf(p+".convert."+c, "verify.tables[%d].convert.%s: unknown conversion %q (known: %s)",
					i, c, conv, strings.Join(Conversions, ", "))
			}
		}
	}
	if err := validateMapping(&s.Verify, l); err != nil {
		return err
	}
	for _, c := range s.Verify.IgnoreColumns {
		if !isIdent(c) {
			return l.errorf("$.verify.ignore_columns", "verify.ignore_columns: %q is not a column name", c)
		}
	}
	for i, e := range s.Sessions.Expected {
		p := fmt.Sprintf("$.sessions.expected[%d]", i)
		switch {
		case !slices.Contains(ReadEndpoints, e.Endpoint):
			return l.errorf(p+".endpoint", "sessions.expected[%d].endpoint: %q is not one of %s",
				i, e.Endpoint, strings.Join(ReadEndpoints, ", "))
		case len(e.Fields) == 0:
			return l.errorf(p, "sessions.expected[%d].fields: must list at least one field", i)
		case strings.TrimSpace(e.Reason) == "":
			return l.errorf(p, "sessions.expected[%d].reason: say why the difference is expected", i)
		}
	}
	if w := &s.Window; w.Duration != "" {
		d, err := time.ParseDuration(w.Duration)
		switch {
		case err != nil:
			return l.errorf("$.window.duration", "window.duration: %q is not a duration such as 10s", w.Duration)
		case d < 0 || d > 10*time.Minute:
			return l.errorf("$.window.duration", "window.duration: must be between 0s and 10m, got %v", d)
		}
		w.Dur = d
	}
	if n := s.Window.Revocations; n < 0 || n > 1000 {
		return l.errorf("$.window.revocations", "window.revocations: must be between 0 and 1000, got %d", n)
	}
	if s.Window.Revocations > 0 && s.Window.Dur == 0 {
		return l.errorf("$.window.revocations", "window.revocations: needs a window.duration")
	}
	if g := s.Gates; !(g.MaxErrorRate <= 1) {
		return l.errorf("$.gates.max_error_rate",
			"gates.max_error_rate: must be a fraction between 0 and 1, got %g", g.MaxErrorRate)
	}
	return validateMetricGates(s, l)
}

func validateServer(key string, srv *Server, l *locator) error {
	p := "$." + key
	if srv.Kind != "hydra" {
		return l.errorf(p+".kind", "%s.kind: only \"hydra\" is supported, got %q", key, srv.Kind)
	}
	if srv.Version == "" {
		return l.errorf(p, "%s.version: must be set, for example v1.11.10", key)
	}
	if !strings.HasPrefix(srv.Version, "v1.") && !strings.HasPrefix(srv.Version, "v2.") {
		return l.errorf(p+".version", "%s.version: %q is not a Hydra v1.x or v2.x release", key, srv.Version)
	}
	if srv.Binary == "" && !slices.Contains(BuildableVersions, srv.Version) {
		return l.errorf(p+".version", "%s.version: cutover builds only %s; set %s.binary to use %s",
			key, strings.Join(BuildableVersions, " and "), key, srv.Version)
	}
	for _, k := range slices.Sorted(maps.Keys(srv.Env)) {
		if k == "" || strings.ContainsAny(k, "= ") {
			return l.errorf(p+".env", "%s.env: %q is not an environment variable name", key, k)
		}
	}
	return nil
}

func validateLoad(ld *Traffic, l *locator) error {
	var err error
	if ld.RatePer, err = ParseRate(ld.Rate); err != nil {
		return l.errorf("$.load.rate", "load.rate: %v", err)
	}
	durs := []struct {
		key string
		raw string
		dst *time.Duration
		min time.Duration
	}{
		{"duration", ld.Duration, &ld.Dur, time.Second},
		{"warmup", ld.Warmup, &ld.Warm, 0},
		{"timeout", ld.Timeout, &ld.Deadline, time.Millisecond},
	}
	for _, d := range durs {
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			return l.errorf("$.load."+d.key, "load.%s: %q is not a duration such as 30s or 2m", d.key, d.raw)
		}
		if v < d.min {
			return l.errorf("$.load."+d.key, "load.%s: must be at least %v, got %v", d.key, d.min, v)
		}
		*d.dst = v
	}
	if ld.Dur > time.Hour {
		return l.errorf("$.load.duration", "load.duration: must be at most 1h, got %v", ld.Dur)
	}
	if ld.Warm >= ld.Dur {
		return l.errorf("$.load.warmup", "load.warmup: must be shorter than load.duration (%v), got %v", ld.Dur, ld.Warm)
	}
	if steady := ld.RatePer.PerSecond() * (ld.Dur - ld.Warm).Seconds(); ld.Pacing.Kind == "" && steady < 1 {
		return l.errorf("$.load.rate", "load.rate: %s sends no request after the warm-up in load.duration %v; "+
			"raise the rate or the duration", ld.Rate, ld.Dur)
	}
	if ld.Chains < 1 || ld.Chains > 10000 {
		return l.errorf("$.load.chains", "load.chains: must be between 1 and 10000, got %d", ld.Chains)
	}
	if ld.Subjects < 1 || ld.Subjects > 100000 {
		return l.errorf("$.load.subjects", "load.subjects: must be between 1 and 100000, got %d", ld.Subjects)
	}
	if err := validatePacing(ld, l); err != nil {
		return err
	}
	if ld.Mix == nil {
		ld.Mix = defaultMix()
	}
	total := 0
	// In name order, so that of several bad entries the same is named
	// every time.
	for _, op := range slices.Sorted(maps.Keys(ld.Mix)) {
		w := ld.Mix[op]
		if !slices.Contains(Operations, op) {
			return l.errorf("$.load.mix."+op, "load.mix: unknown operation %q (known: %s)", op, strings.Join(Operations, ", "))
		}
		if w < 0 || w > maxWeight {
			return l.errorf("$.load.mix."+op, "load.mix.%s: weight must be between 0 and %d, got %d", op, maxWeight, w)
		}
		total += w
	}
	if total == 0 {
		return l.errorf("$.load.mix", "load.mix: weights sum to zero; give at least one operation a positive weight")
	}
	return nil
}

// ParseRate parses a rate such as "40/s", "600/m" or "5/100ms".
func ParseRate(s string) (Rate, error) {
	num, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not a rate such as 40/s", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil {
		return Rate{}, fmt.Errorf("%q is not a rate such as 40/s", s)
	}
	if n <= 0 {
		return Rate{}, fmt.Errorf("must be positive, got %q", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q is not a rate such as 40/s", s)
	}
	r := Rate{Freq: n, Per: d}
	if r.PerSecond() > 100000 {
		return Rate{}, fmt.Errorf("%q is above 100000 requests per second", s)
	}
	return r, nil
}

func isIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
