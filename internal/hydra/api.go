package hydra

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// An API reaches one Hydra server's public and admin ports.
type API struct {
	// Public is the public base URL, e.g. http://127.0.0.1:4444.
	Public string
	// Admin is the admin base URL.
	Admin string
	// Major is the server's major version (1 or 2).
	Major int

	http *http.Client
}

// NewAPI returns an API for a server of the given version.
func NewAPI(version, public, admin string) *API {
	return &API{Public: strings.TrimSuffix(public, "/"), Admin: strings.TrimSuffix(admin, "/"),
		Major: Major(version), http: &http.Client{Timeout: 15 * time.Second}}
}

// AdminURL returns the URL of an admin endpoint given by its 1.x path,
// for example "/clients"; on 2.x it is served under /admin.
func (a *API) AdminURL(path string) string {
	if a.Major >= 2 {
		return a.Admin + "/admin" + path
	}
	return a.Admin + path
}

// TokenURL is the public token endpoint.
func (a *API) TokenURL() string { return a.Public + "/oauth2/token" }

// RevokeURL is the public revocation endpoint.
func (a *API) RevokeURL() string { return a.Public + "/oauth2/revoke" }

// IntrospectURL is the admin introspection endpoint.
func (a *API) IntrospectURL() string { return a.AdminURL("/oauth2/introspect") }

// MetricsURL is the admin Prometheus endpoint.
func (a *API) MetricsURL() string { return a.AdminURL("/metrics/prometheus") }

// A Client is an OAuth client. Secret is a credential: never log it.
type Client struct {
	ID     string
	Secret string
}

// Token is what the token endpoint returns. Both tokens are
// credentials: never log them.
type Token struct {
	Access  string
	Refresh string
	Scope   string
}

// An Introspection is the part of an introspection answer cutover
// compares.
type Introspection struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	TokenUse  string   `json:"token_use"`
	Audience  []string `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	Issuer    string   `json:"iss"`
}

// An HTTPError is a non-2xx answer. Code is the OAuth error code when
// the body carries one.
type HTTPError struct {
	Op     string
	Status int
	Code   string
}

func (e *HTTPError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: HTTP %d %s", e.Op, e.Status, e.Code)
	}
	return fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
}

// CreateClient registers a confidential client allowed every grant
// cutover uses, with the driver's callback as redirect URI.
func (a *API) CreateClient(ctx context.Context, c Client) error {
	body := map[string]any{
		"client_id":                  c.ID,
		"client_secret":              c.Secret,
		"grant_types":                []string{"client_credentials", "authorization_code", "refresh_token"},
		"response_types":             []string{"code", "token", "id_token"},
		"redirect_uris":              []string{CallbackURL},
		"scope":                      "openid offline_access offline read write",
		"token_endpoint_auth_method": "client_secret_basic",
	}
	return a.adminJSON(ctx, "create client", http.MethodPost, "/clients", nil, body, nil)
}

// ClientCredentials requests a token with the client_credentials grant.
func (a *API) ClientCredentials(ctx context.Context, c Client, scope string) (Token, error) {
	return a.token(ctx, "client_credentials", c, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
}

// Refresh exchanges a refresh token for a new pair.
func (a *API) Refresh(ctx context.Context, c Client, refresh string) (Token, error) {
	return a.token(ctx, "refresh", c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// Revoke revokes an access or refresh token.
func (a *API) Revoke(ctx context.Context, c Client, token string) error {
	req, err := FormRequest(ctx, a.RevokeURL(), c, url.Values{"token": {token}})
	if err != nil {
		return err
	}
	return a.do(req, "revoke", nil)
}

// Introspect asks the admin API about a token.
func (a *API) Introspect(ctx context.Context, token string) (Introspection, error) {
	var in Introspection
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.IntrospectURL(),
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return in, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	err = a.do(req, "introspect", &in)
	return in, err
}

// FormRequest builds a POST of form to u with HTTP basic client
// authentication, the way OAuth clients call the token and revocation
// endpoints.
func FormRequest(ctx context.Context, u string, c Client, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	return req, nil
}

func (a *API) token(ctx context.Context, op string, c Client, form url.Values) (Token, error) {
	req, err := FormRequest(ctx, a.TokenURL(), c, form)
	if err != nil {
		return Token{}, err
	}
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	if err := a.do(req, op, &out); err != nil {
		return Token{}, err
	}
	return Token{Access: out.AccessToken, Refresh: out.RefreshToken, Scope: out.Scope}, nil
}

func (a *API) adminJSON(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := a.AdminURL(path)
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req, op, out)
}

func (a *API) do(req *http.Request, op string, out any) error {
	return doWith(a.http, req, op, out)
}

func doWith(c *http.Client, req *http.Request, op string, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, stripURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(data, &e)
		return &HTTPError{Op: op, Status: resp.StatusCode, Code: e.Error}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s: decoding answer: %w", op, err)
		}
	}
	return nil
}

// stripURL drops the URL from a *url.Error: a URL may carry a code or
// a challenge in its query.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// AuthorizationCode runs the authorization-code flow with PKCE for
// subject as a browser would, accepting the login and consent requests
// through the admin API, and exchanges the code for tokens. scope
// should include offline_access to get a refresh token.
func (a *API) AuthorizationCode(ctx context.Context, c Client, subject, scope string) (Token, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	verifier := randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {c.ID}, "response_type": {"code"}, "scope": {scope},
		"redirect_uri": {CallbackURL}, "state": {randomString(12)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	next := a.Public + "/oauth2/auth?" + q.Encode()
	for hop := 0; hop < 10; hop++ {
		switch {
		// A server set up by its users has its own login and consent
		// URLs; the driver recognises them by their challenge.
		case strings.HasPrefix(next, LoginURL) || hasQuery(next, "login_challenge"):
			ch, err := challenge(next, "login_challenge")
			if err != nil {
				return Token{}, err
			}
			var r struct {
				RedirectTo string `json:"redirect_to"`
			}
			if err := a.adminJSON(ctx, "accept login", http.MethodPut, "/oauth2/auth/requests/login/accept",
				url.Values{"login_challenge": {ch}}, map[string]any{"subject": subject}, &r); err != nil {
				return Token{}, err
			}
			next = r.RedirectTo
		case strings.HasPrefix(next, ConsentURL) || hasQuery(next, "consent_challenge"):
			ch, err := challenge(next, "consent_challenge")
			if err != nil {
				return Token{}, err
			}
			var cr struct {
				RequestedScope    []string `json:"requested_scope"`
				RequestedAudience []string `json:"requested_access_token_audience"`
			}
			if err := a.adminJSON(ctx, "get consent", http.MethodGet, "/oauth2/auth/requests/consent",
				url.Values{"consent_challenge": {ch}}, nil, &cr); err != nil {
				return Token{}, err
			}
			var r struct {
				RedirectTo string `json:"redirect_to"`
			}
			if err := a.adminJSON(ctx, "accept consent", http.MethodPut, "/oauth2/auth/requests/consent/accept",
				url.Values{"consent_challenge": {ch}}, map[string]any{
					"grant_scope": cr.RequestedScope, "grant_access_token_audience": cr.RequestedAudience,
				}, &r); err != nil {
				return Token{}, err
			}
			next = r.RedirectTo
		case strings.HasPrefix(next, CallbackURL):
			u, err := url.Parse(next)
			if err != nil {
				return Token{}, fmt.Errorf("authorization code: bad callback: %w", err)
			}
			if e := u.Query().Get("error"); e != "" {
				return Token{}, &HTTPError{Op: "authorization code", Status: http.StatusFound, Code: e}
			}
			code := u.Query().Get("code")
			if code == "" {
				return Token{}, errors.New("authorization code: callback carries no code")
			}
			return a.token(ctx, "code exchange", c, url.Values{
				"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {CallbackURL}, "code_verifier": {verifier},
			})
		default:
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			if err != nil {
				return Token{}, fmt.Errorf("authorization code: %w", err)
			}
			resp, err := browser.Do(req)
			if err != nil {
				return Token{}, fmt.Errorf("authorization code: %w", stripURL(err))
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
				return Token{}, &HTTPError{Op: "authorization code", Status: resp.StatusCode}
			}
			u, err := req.URL.Parse(loc)
			if err != nil {
				return Token{}, fmt.Errorf("authorization code: bad redirect: %w", err)
			}
			next = u.String()
		}
	}
	return Token{}, errors.New("authorization code: too many redirects")
}

func hasQuery(raw, name string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Query().Get(name) != ""
}

func challenge(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("authorization code: bad redirect: %w", err)
	}
	ch := u.Query().Get(name)
	if ch == "" {
		return "", fmt.Errorf("authorization code: redirect carries no %s", name)
	}
	return ch, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
