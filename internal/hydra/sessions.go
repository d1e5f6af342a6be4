package hydra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// A ConsentSession is one consent a subject granted, reduced to what
// must survive an upgrade.
type ConsentSession struct {
	ClientID        string
	GrantedScope    []string
	GrantedAudience []string
}

// ConsentSessions lists the consent sessions of subject through the
// admin API, sorted by client and scope.
func (a *API) ConsentSessions(ctx context.Context, subject string) ([]ConsentSession, error) {
	var raw []struct {
		ConsentRequest struct {
			Client struct {
				ClientID string `json:"client_id"`
			} `json:"client"`
		} `json:"consent_request"`
		GrantScope    []string `json:"grant_scope"`
		GrantAudience []string `json:"grant_access_token_audience"`
	}
	err := a.adminJSON(ctx, "list consent sessions", http.MethodGet, "/oauth2/auth/sessions/consent",
		url.Values{"subject": {subject}}, nil, &raw)
	if err != nil {
		return nil, err
	}
	out := make([]ConsentSession, 0, len(raw))
	for _, r := range raw {
		s := ConsentSession{ClientID: r.ConsentRequest.Client.ClientID,
			GrantedScope:    slices.Sorted(slices.Values(r.GrantScope)),
			GrantedAudience: slices.Sorted(slices.Values(r.GrantAudience))}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y ConsentSession) int {
		if c := cmpString(x.ClientID, y.ClientID); c != 0 {
			return c
		}
		return slices.Compare(x.GrantedScope, y.GrantedScope)
	})
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// GetJSON fetches u and decodes its JSON body. It returns the status
// code too, so that callers can compare error answers.
func (a *API) GetJSON(ctx context.Context, u string) (any, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get: %w", stripURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("get: reading answer: %w", err)
	}
	var v any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("get: answer is not JSON: %w", err)
		}
	}
	return v, resp.StatusCode, nil
}

// RevokeConsentSessions revokes every consent subject granted, to every
// client, through the admin API; the tokens issued under those consents
// must stop working.
func (a *API) RevokeConsentSessions(ctx context.Context, subject string) error {
	return a.adminJSON(ctx, "revoke consent sessions", http.MethodDelete, "/oauth2/auth/sessions/consent",
		url.Values{"subject": {subject}, "all": {"true"}}, nil, nil)
}
