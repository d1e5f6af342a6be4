package verify

import (
	"context"
	"fmt"
	"strings"
)

// An Introspection is what a server says about a token, reduced to the
// fields that must survive a cutover.
type Introspection struct {
	Active   bool   `json:"active"`
	Subject  string `json:"subject"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	// Audience is the granted audience, sorted.
	Audience []string `json:"audience"`
	// ExpiresAt is the expiry in Unix seconds.
	ExpiresAt int64 `json:"exp"`
	// TokenUse is "access_token" or "refresh_token".
	TokenUse string `json:"token_use"`
}

// A Session is a token whose behaviour is known from before the
// cutover. ID names it in reports; Token is a credential and is never
// reported.
type Session struct {
	ID     string
	Token  string
	Before Introspection
}

// An Introspector asks a server about a token.
type Introspector func(ctx context.Context, token string) (Introspection, error)

// SessionsResult is the outcome of the session checks.
type SessionsResult struct {
	Checked    int        `json:"checked"`
	Mismatched int        `json:"mismatched"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// A Mismatch is one session that behaves differently after the
// cutover. Before and After hold the differing field's values, which
// are never credentials.
type Mismatch struct {
	Session string `json:"session"`
	Field   string `json:"field"`
	Before  string `json:"before"`
	After   string `json:"after"`
}

// Sessions introspects every session's token with after and compares
// the answer with what was known before. A failed introspection is a
// mismatch in field "introspection", not an error; only a cancelled
// ctx ends the check early.
func Sessions(ctx context.Context, sessions []Session, after Introspector) (*SessionsResult, error) {
	res := &SessionsResult{}
	for _, s := range sessions {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Checked++
		got, err := after(ctx, s.Token)
		var ms []Mismatch
		if err != nil {
			ms = append(ms, Mismatch{Session: s.ID, Field: "introspection", Before: "ok", After: err.Error()})
		} else {
			ms = compareIntrospection(s.ID, s.Before, got)
		}
		if len(ms) > 0 {
			res.Mismatched++
			res.Mismatches = append(res.Mismatches, ms...)
		}
	}
	return res, nil
}

func compareIntrospection(id string, b, a Introspection) []Mismatch {
	var ms []Mismatch
	add := func(field, before, after string) {
		if before != after {
			ms = append(ms, Mismatch{Session: id, Field: field, Before: before, After: after})
		}
	}
	add("active", fmt.Sprint(b.Active), fmt.Sprint(a.Active))
	if b.Active && a.Active {
		add("subject", b.Subject, a.Subject)
		add("client_id", b.ClientID, a.ClientID)
		add("scope", b.Scope, a.Scope)
		add("audience", strings.Join(b.Audience, " "), strings.Join(a.Audience, " "))
		add("exp", fmt.Sprint(b.ExpiresAt), fmt.Sprint(a.ExpiresAt))
		add("token_use", b.TokenUse, a.TokenUse)
	}
	return ms
}
