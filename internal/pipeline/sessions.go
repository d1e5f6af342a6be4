package pipeline

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/verify"
)

// A readEndpoint is a read-only request sent to both servers, whose
// answers are compared field by field.
type readEndpoint struct {
	name string
	url  func(a *hydra.API) string
}

var readEndpoints = []readEndpoint{
	{"discovery", func(a *hydra.API) string { return a.Public + "/.well-known/openid-configuration" }},
	{"jwks", func(a *hydra.API) string { return a.Public + "/.well-known/jwks.json" }},
	{"client", func(a *hydra.API) string { return a.AdminURL("/clients/cutover-client-0") }},
}

// expectedDiffs are differences between Hydra 1.11 and 2.3 answers that
// are known and deliberate upstream; they are left out of the endpoint
// comparison and listed in the report with their reason.
var expectedDiffs = []reports.Expected{
	{What: "server URLs in answers", Reason: "each server has its own ports and issuer; URLs are compared " +
		"after replacing each server's own base URLs by {public} and {admin}"},
	{What: "token prefixes ory_at_ / ory_rt_", Reason: "2.x marks the tokens it issues; tokens issued " +
		"by 1.x keep working without the prefix"},
	{What: "admin API paths", Reason: "2.x serves the admin API under /admin"},
	{What: "order of value lists in answers", Reason: "lists of plain values (scopes, algorithms) " +
		"are sets; they are compared sorted"},
}

// oldView is what the old server answered before the cutover.
type oldView struct {
	consent map[string][]hydra.ConsentSession
	answers map[string][2]any // two answers each, for calibration
	// consentRevoke is what the old server did to a token when its
	// subject's consent was revoked: "inactive" or "still active".
	consentRevoke string
}

// consentControl is the subject of a session used once on the old
// server to learn what revoking a consent does to its tokens there.
const consentControl = "consent-control"

// captureOld records the old server's consent sessions for every
// seeded subject and its answers to the read endpoints, twice.
func (r *run) captureOld(ctx context.Context) error {
	api := r.old.API
	r.oldView = oldView{consent: map[string][]hydra.ConsentSession{}, answers: map[string][2]any{}}
	for i := range r.sc.Seed.Sessions {
		subj := fmt.Sprintf("user-%d", i)
		cs, err := api.ConsentSessions(ctx, subj)
		if err != nil {
			return err
		}
		r.oldView.consent[subj] = cs
	}
	// What revoking a subject's consent does on the old server, with a
	// session of its own so that no seeded session is touched.
	t, err := api.AuthorizationCode(ctx, r.clients[0], consentControl, seedScope)
	if err != nil {
		return err
	}
	if err := api.RevokeConsentSessions(ctx, consentControl); err != nil {
		return err
	}
	in, err := api.Introspect(ctx, t.Access)
	if err != nil {
		return err
	}
	r.oldView.consentRevoke = activeText(in.Active)
	for _, e := range readEndpoints {
		var pair [2]any
		for k := range 2 {
			v, code, err := api.GetJSON(ctx, e.url(api))
			if err != nil {
				return fmt.Errorf("%s: %w", e.name, err)
			}
			pair[k] = map[string]any{"status": code, "body": normalizeURLs(v, api)}
		}
		r.oldView.answers[e.name] = pair
	}
	return nil
}

// normalizeURLs replaces a server's own base URLs in every string of v.
func normalizeURLs(v any, a *hydra.API) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeURLs(e, a)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeURLs(e, a)
		}
		return out
	case string:
		x = strings.ReplaceAll(x, a.AdminURL(""), "{admin}")
		x = strings.ReplaceAll(x, a.Admin, "{admin}")
		return strings.ReplaceAll(x, a.Public, "{public}")
	default:
		return v
	}
}

// compareNew asks the new server what captureOld asked the old one and
// records the differences in the report.
func (r *run) compareNew(ctx context.Context, res *verify.SessionsResult) error {
	api := r.new.API
	for i := range r.sc.Seed.Sessions {
		subj := fmt.Sprintf("user-%d", i)
		id := "consent/" + subj
		res.Checked++
		got, err := api.ConsentSessions(ctx, subj)
		if err != nil {
			res.Mismatched++
			res.Mismatches = append(res.Mismatches, verify.Mismatch{Session: id, Field: "consent sessions",
				Before: "listed", After: err.Error()})
			continue
		}
		if want := r.oldView.consent[subj]; !reflect.DeepEqual(normalizeConsent(want), normalizeConsent(got)) {
			res.Mismatched++
			res.Mismatches = append(res.Mismatches, verify.Mismatch{Session: id, Field: "consent sessions",
				Before: describeConsent(want), After: describeConsent(got)})
		}
	}
	r.rep.Sessions.Expected = append([]reports.Expected(nil), expectedDiffs...)
	for _, x := range r.sc.Sessions.Expected {
		fields := x.Fields
		if len(fields) > 3 {
			fields = append(fields[:3:3], fmt.Sprintf("%d more", len(x.Fields)-3))
		}
		r.rep.Sessions.Expected = append(r.rep.Sessions.Expected, reports.Expected{
			What: x.Endpoint + ": " + strings.Join(fields, ", "), Reason: x.Reason})
	}
	for _, e := range readEndpoints {
		old := r.oldView.answers[e.name]
		v, code, err := api.GetJSON(ctx, e.url(api))
		ep := reports.Endpoint{Name: e.name, Noise: verify.Noise(old[0], old[1])}
		if err != nil {
			ep.Error = err.Error()
			r.rep.Sessions.Endpoints = append(r.rep.Sessions.Endpoints, ep)
			continue
		}
		diffs := verify.DiffJSON(old[1], map[string]any{"status": code, "body": normalizeURLs(v, api)}, ep.Noise)
		for _, d := range diffs {
			if reason, ok := r.expectedReason(e.name, d.Path); ok {
				ep.Expected = append(ep.Expected, reports.ExpectedField{FieldDiff: d, Reason: reason})
			} else {
				ep.Diffs = append(ep.Diffs, d)
			}
		}
		r.rep.Sessions.EndpointDiffs += len(ep.Diffs)
		r.rep.Sessions.Endpoints = append(r.rep.Sessions.Endpoints, ep)
	}
	return nil
}

// expectedReason returns the scenario's reason when a differing field of
// an endpoint's answer is an expected difference.
func (r *run) expectedReason(endpoint, path string) (string, bool) {
	for _, x := range r.sc.Sessions.Expected {
		if x.Endpoint == endpoint && verify.MatchPath(path, x.Fields) {
			return x.Reason, true
		}
	}
	return "", false
}

func normalizeConsent(cs []hydra.ConsentSession) []hydra.ConsentSession {
	out := make([]hydra.ConsentSession, len(cs))
	for i, c := range cs {
		out[i] = hydra.ConsentSession{ClientID: c.ClientID, GrantedScope: nonNil(c.GrantedScope),
			GrantedAudience: nonNil(c.GrantedAudience)}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func describeConsent(cs []hydra.ConsentSession) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.ClientID+":"+strings.Join(c.GrantedScope, " "))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// exercise uses the old sessions on the new server: every seeded
// refresh token is refreshed once, and every other active seeded
// client_credentials token is revoked. A token that was active before must refresh
// and its new access token must be active; a token revoked on the old
// server must be refused; a token revoked on the new server must then
// introspect inactive. Last, the consent of the first subject whose
// session refreshed is revoked, and its refreshed token must then
// behave as the old server's control token did. It runs after the row verification, since it writes to the new
// database.
func (r *run) exercise(ctx context.Context, res *verify.SessionsResult) error {
	api := r.new.API
	mismatch := func(id, field, before, after string) {
		res.Mismatched++
		res.Mismatches = append(res.Mismatches, verify.Mismatch{Session: id, Field: field, Before: before, After: after})
	}
	revoked := 0
	// An access token refreshed on the new server from an old session,
	// and its subject, for the consent revocation check below.
	var consentProbe, probeSubject string
	activeCC := 0
	for _, s := range r.sessions {
		if err := ctx.Err(); err != nil {
			return err
		}
		owner := r.clients[ownerOf(s.ID, len(r.clients))]
		switch {
		case strings.HasSuffix(s.ID, "/refresh"):
			res.Checked++
			t, err := api.Refresh(ctx, owner, s.Token)
			switch {
			case s.Before.Active && err != nil:
				mismatch(s.ID, "refresh on new server", "refreshes", err.Error())
			case !s.Before.Active && err == nil:
				mismatch(s.ID, "refresh on new server", "refused (revoked)", "refreshed")
			case err == nil:
				in, ierr := api.Introspect(ctx, t.Access)
				if ierr != nil || !in.Active {
					mismatch(s.ID, "token from refresh on new server", "active", "inactive or unreadable")
					continue
				}
				if consentProbe == "" {
					consentProbe, probeSubject = t.Access, s.Before.Subject
				}
			}
		case strings.HasPrefix(s.ID, "cc-") && s.Before.Active:
			// Every other active client_credentials token: revoking a
			// session's access token would revoke its refresh token too,
			// which the refresh check above needs.
			activeCC++
			if activeCC%2 == 0 {
				continue
			}
			res.Checked++
			revoked++
			if err := api.Revoke(ctx, owner, s.Token); err != nil {
				mismatch(s.ID, "revoke on new server", "revoked", err.Error())
				continue
			}
			in, err := api.Introspect(ctx, s.Token)
			if err != nil || in.Active {
				mismatch(s.ID, "after revoke on new server", "inactive", "still active or unreadable")
			}
		}
	}
	// Revoking a subject's consent must end the tokens issued under it,
	// including those of a session that began on the old server.
	if consentProbe == "" {
		res.Checked++
		res.Mismatched++
		res.Mismatches = append(res.Mismatches, verify.Mismatch{Session: "consent", Field: "consent revocation check",
			Before: "a session to check", After: "not run: no old session could be refreshed on the new server"})
	} else {
		res.Checked++
		id := "consent/" + probeSubject
		want := r.oldView.consentRevoke
		if err := api.RevokeConsentSessions(ctx, probeSubject); err != nil {
			mismatch(id, "revoke consent", "revoked", err.Error())
		} else if in, err := api.Introspect(ctx, consentProbe); err != nil {
			mismatch(id, "token after consent revoked", want, err.Error())
		} else if got := activeText(in.Active); got != want {
			mismatch(id, "token after consent revoked", want, got)
		}
	}
	r.log.Info("sessions exercised on the new server", "refreshed", r.sc.Seed.Sessions, "revoked", revoked)
	return nil
}

func activeText(active bool) string {
	if active {
		return "still active"
	}
	return "inactive"
}
