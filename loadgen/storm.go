package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Misuse is a way of presenting a refresh token the way a correct
// client never does.
type Misuse string

// The misuses a storm tries.
const (
	// Reuse refreshes a chain once, then presents the rotated (now
	// old) refresh token again.
	Reuse Misuse = "reuse"
	// Concurrent presents one refresh token in N refreshes at once,
	// as clients do that refresh from several threads or retry eagerly.
	Concurrent Misuse = "concurrent"
)

// A StormTarget is the server a storm runs against.
type StormTarget struct {
	// TokenURL and IntrospectURL are the OAuth endpoints.
	TokenURL, IntrospectURL string
	// Client owns the chains. Its secret is never logged.
	Client Client
}

// An Outcome is what one misuse did to a set of chains on one server.
type Outcome struct {
	// Misuse is the misuse tried.
	Misuse Misuse
	// Chains is the number of chains the misuse was tried on.
	Chains int
	// Attempts is the number of misusing refresh requests: one per
	// chain for Reuse, N per chain for Concurrent.
	Attempts int
	// Succeeded counts misusing requests answered 200.
	Succeeded int
	// Rejected counts 4xx answers by OAuth error code ("invalid_grant",
	// or "HTTP 409" when the body names none).
	Rejected map[string]int
	// ServerErrors counts 5xx answers.
	ServerErrors int
	// TransportErrors counts requests that got no answer.
	TransportErrors int
	// Invalidated counts chains that had no active refresh token left
	// afterwards, as the server's introspection says: neither the
	// newest token issued before the misuse nor any issued by it.
	Invalidated int
	// ActiveAfter counts refresh tokens still active afterwards.
	ActiveAfter int
}

// String summarises the outcome in one line.
func (o Outcome) String() string {
	var rej []string
	for _, k := range slices.Sorted(maps.Keys(o.Rejected)) {
		rej = append(rej, fmt.Sprintf("%s×%d", k, o.Rejected[k]))
	}
	return fmt.Sprintf("%s: %d chains, %d attempts: %d ok, 4xx [%s], %d 5xx, %d no answer; "+
		"%d chains invalidated, %d refresh tokens active after",
		o.Misuse, o.Chains, o.Attempts, o.Succeeded, strings.Join(rej, " "), o.ServerErrors,
		o.TransportErrors, o.Invalidated, o.ActiveAfter)
}

// Storm tries misuse m on each chain (fresh refresh tokens owned by
// target.Client) and reports what the server did. For Concurrent, n
// refreshes of the same token leave together; n is ignored for Reuse.
// Chains are tried one after another. Storm returns an error only when
// a chain cannot be set up or introspection fails; what the server
// answers to the misuse is data.
func Storm(ctx context.Context, target StormTarget, m Misuse, n int, chains []string) (Outcome, error) {
	o := Outcome{Misuse: m, Rejected: map[string]int{}}
	hc := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: max(n, 2)}}
	defer hc.CloseIdleConnections()
	for i, rt := range chains {
		var newest []string // refresh tokens that should keep the chain alive
		var answers []answer
		switch m {
		case Reuse:
			first := refresh(ctx, hc, target, rt)
			if first.status != 200 || first.refresh == "" {
				return o, fmt.Errorf("storm: chain %d: first refresh: %s", i, first.describe())
			}
			newest = append(newest, first.refresh)
			answers = append(answers, refresh(ctx, hc, target, rt))
		case Concurrent:
			answers = make([]answer, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for k := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					answers[k] = refresh(ctx, hc, target, rt)
				}()
			}
			close(start)
			wg.Wait()
		default:
			return o, fmt.Errorf("storm: unknown misuse %q", m)
		}
		o.Chains++
		for _, a := range answers {
			o.Attempts++
			switch {
			case a.status == 0:
				o.TransportErrors++
			case a.status == 200:
				o.Succeeded++
				if a.refresh != "" {
					newest = append(newest, a.refresh)
				}
			case a.status >= 500:
				o.ServerErrors++
			default:
				code := a.code
				if code == "" {
					code = fmt.Sprintf("HTTP %d", a.status)
				}
				o.Rejected[code]++
			}
		}
		if len(newest) == 0 {
			// Nothing was issued: the chain lives on only if the token
			// presented is still active.
			newest = append(newest, rt)
		}
		alive := 0
		for _, tok := range newest {
			active, err := introspect(ctx, hc, target, tok)
			if err != nil {
				return o, fmt.Errorf("storm: chain %d: %w", i, err)
			}
			if active {
				alive++
			}
		}
		o.ActiveAfter += alive
		if alive == 0 {
			o.Invalidated++
		}
	}
	return o, ctx.Err()
}

// An answer is what a refresh got. refresh is a credential.
type answer struct {
	status  int
	code    string
	refresh string
	err     error
}

func (a answer) describe() string {
	switch {
	case a.err != nil:
		return a.err.Error()
	case a.code != "":
		return fmt.Sprintf("HTTP %d %s", a.status, a.code)
	}
	return fmt.Sprintf("HTTP %d", a.status)
}

func refresh(ctx context.Context, hc *http.Client, t StormTarget, token string) answer {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Authorization", basicAuth(t.Client))
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is harmless here, but keep errors uniform
		}
		return answer{err: err}
	}
	defer resp.Body.Close()
	var body struct {
		Refresh string `json:"refresh_token"`
		Error   string `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	json.Unmarshal(data, &body)
	return answer{status: resp.StatusCode, code: body.Error, refresh: body.Refresh}
}

func introspect(ctx context.Context, hc *http.Client, t StormTarget, token string) (bool, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.IntrospectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", formType)
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return false, fmt.Errorf("introspect: HTTP %d", resp.StatusCode)
	}
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&in); err != nil {
		return false, fmt.Errorf("introspect: %w", err)
	}
	return in.Active, nil
}
