// Package dbgen fills a Hydra v1.11 database with realistic rows fast,
// with set-based SQL (generate_series) inside PostgreSQL, and applies
// known corruptions to a migrated copy so that tests and benchmarks can
// check that verify reports exactly what was changed.
package dbgen

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Options size a generated database.
type Options struct {
	// Tokens is the number of token rows, spread over the five token
	// tables (access 40 %, refresh 30 %, code, oidc and pkce 10 % each).
	Tokens int
	// Flows is the number of login/consent flows; 0 means Tokens/10,
	// at least 1.
	Flows int
	// Clients is the number of OAuth clients; 0 means Tokens/10000,
	// between 4 and 1000.
	Clients int
}

func (o *Options) defaults() {
	if o.Flows <= 0 {
		o.Flows = max(1, o.Tokens/10)
	}
	if o.Clients <= 0 {
		o.Clients = min(1000, max(4, o.Tokens/10000))
	}
}

// ts is a realistic timestamp with microseconds for row i.
const ts = "(timestamp '2024-01-01' + i * interval '1 second' + (i % 999983) * interval '1 microsecond')"

// Fill inserts rows into every table of a database migrated to Hydra
// v1.11.10 (hydra migrate sql), through conn. Values are deterministic:
// the same options give the same rows. Row i of a token table has the
// signature md5('<table>-<i>').
func Fill(ctx context.Context, conn *pgx.Conn, o Options) error {
	o.defaults()
	c, f := o.Clients, o.Flows
	acc, ref := o.Tokens*4/10, o.Tokens*3/10
	rest := (o.Tokens - acc - ref) / 3
	steps := []struct{ name, sql string }{
		{"clients", fmt.Sprintf(`INSERT INTO hydra_client (id, client_name, client_secret, redirect_uris, grant_types,
			response_types, scope, owner, policy_uri, tos_uri, client_uri, logo_uri, contacts, sector_identifier_uri,
			jwks, jwks_uri, request_uris, token_endpoint_auth_method, allowed_cors_origins, audience, metadata,
			post_logout_redirect_uris, created_at, updated_at, client_credentials_grant_access_token_lifespan)
		SELECT 'client-' || i, 'Client ' || i, '$2a$04$' || md5('secret' || i) || left(md5('s2' || i), 21),
			CASE WHEN i %% 5 = 0 THEN '' ELSE 'https://app' || i || '.example/cb|https://app' || i || '.example/cb2' END,
			'authorization_code|refresh_token|client_credentials', 'code|token|id_token', 'openid offline_access',
			'owner-' || (i %% 7), '', '', 'https://app' || i || '.example', '', CASE WHEN i %% 3 = 0 THEN '' ELSE 'admin@example.com' END,
			'', '{"keys":[]}', '', '', 'client_secret_basic', CASE WHEN i %% 4 = 0 THEN 'https://spa.example' ELSE '' END,
			CASE WHEN i %% 2 = 0 THEN '' ELSE 'https://api.example|https://api2.example' END,
			'{"tier":"' || (i %% 3) || '"}', '', %[2]s, %[2]s, CASE WHEN i %% 6 = 0 THEN 3600000000000 END
		FROM generate_series(1, %[1]d) i`, c, ts)},
		{"keys", fmt.Sprintf(`INSERT INTO hydra_jwk (sid, kid, version, keydata, created_at)
		SELECT CASE WHEN i %% 2 = 0 THEN 'hydra.openid.id-token' ELSE 'hydra.jwt.access-token' END, 'key-' || md5('kid' || i),
			0, repeat(md5('keydata' || i), 20), %s FROM generate_series(1, 6) i`, ts)},
		{"login sessions", fmt.Sprintf(`INSERT INTO hydra_oauth2_authentication_session (id, authenticated_at, subject, remember)
		SELECT md5('session-' || i), CASE WHEN i %% 10 <> 0 THEN %s END, 'user-' || i, i %% 2 = 0
		FROM generate_series(1, %d) i`, ts, max(1, f/2))},
		{"login requests", fmt.Sprintf(`INSERT INTO hydra_oauth2_authentication_request (challenge, requested_scope, verifier,
			csrf, subject, request_url, skip, client_id, requested_at, authenticated_at, oidc_context, login_session_id,
			requested_at_audience)
		SELECT md5('login-' || i), 'openid|offline_access', md5('lv-' || i), md5('lc-' || i), 'user-' || (i %% %[2]d + 1),
			'https://hydra.example/oauth2/auth?client_id=client-' || (i %% %[3]d + 1) || '&state=' || md5('st' || i),
			i %% 9 = 0, 'client-' || (i %% %[3]d + 1), %[4]s, CASE WHEN i %% 4 <> 0 THEN %[4]s END,
			CASE WHEN i %% 3 = 0 THEN '{"ui_locales":["en"],"display":"page"}' ELSE '{}' END,
			CASE WHEN i %% 5 <> 0 THEN md5('session-' || (i %% %[2]d + 1)) END,
			CASE WHEN i %% 2 = 0 THEN 'https://api.example' WHEN i %% 3 = 0 THEN '' END
		FROM generate_series(1, %[1]d) i`, f, max(1, f/2), c, ts)},
		{"handled logins", fmt.Sprintf(`INSERT INTO hydra_oauth2_authentication_request_handled (challenge, subject, remember,
			remember_for, error, acr, requested_at, authenticated_at, was_used, forced_subject_identifier, context, amr)
		SELECT md5('login-' || i), 'user-' || (i %% %[2]d + 1), i %% 2 = 0, 3600, '{}', CASE WHEN i %% 3 = 0 THEN '1' ELSE '' END,
			%[3]s, %[3]s, i %% 7 <> 0, CASE WHEN i %% 11 = 0 THEN 'pairwise-' || i END,
			CASE WHEN i %% 4 = 0 THEN '{"amr_source":"pwd"}' ELSE '{}' END, CASE WHEN i %% 2 = 0 THEN 'pwd|otp' ELSE '' END
		FROM generate_series(1, %[1]d) i WHERE i %% 10 <> 0`, f, max(1, f/2), ts)},
		{"consent requests", fmt.Sprintf(`INSERT INTO hydra_oauth2_consent_request (challenge, verifier, client_id, subject,
			request_url, skip, requested_scope, csrf, authenticated_at, requested_at, oidc_context, forced_subject_identifier,
			login_session_id, login_challenge, requested_at_audience, acr, context, amr)
		SELECT md5('consent-' || i), md5('cv-' || i), 'client-' || (i %% %[3]d + 1), 'user-' || (i %% %[2]d + 1),
			'https://hydra.example/oauth2/auth?client_id=client-' || (i %% %[3]d + 1), false, 'openid|offline_access',
			md5('cc-' || i), %[4]s, %[4]s, '{}', CASE WHEN i %% 11 = 0 THEN 'pairwise-' || i END,
			CASE WHEN i %% 5 <> 0 THEN md5('session-' || (i %% %[2]d + 1)) END, md5('login-' || i),
			CASE WHEN i %% 2 = 0 THEN 'https://api.example' END, '', '{}', ''
		FROM generate_series(1, %[1]d) i WHERE i %% 10 <> 0 AND i %% 7 <> 0`, f, max(1, f/2), c, ts)},
		{"handled consents", fmt.Sprintf(`INSERT INTO hydra_oauth2_consent_request_handled (challenge, granted_scope, remember,
			remember_for, error, requested_at, session_access_token, session_id_token, authenticated_at, was_used,
			granted_at_audience, handled_at)
		SELECT md5('consent-' || i), CASE WHEN i %% 13 = 0 THEN '' ELSE 'openid|offline_access' END, i %% 2 = 0, 0, '{}', %[2]s,
			'{"tenant":"t' || (i %% 5) || '"}', '{}', %[2]s, i %% 3 <> 0,
			CASE WHEN i %% 2 = 0 THEN 'https://api.example' ELSE '' END, %[2]s
		FROM generate_series(1, %[1]d) i WHERE i %% 10 <> 0 AND i %% 7 <> 0 AND i %% 8 <> 0`, f, ts)},
	}
	for _, t := range []struct {
		table string
		n     int
	}{{"hydra_oauth2_access", acc}, {"hydra_oauth2_refresh", ref}, {"hydra_oauth2_code", rest},
		{"hydra_oauth2_oidc", rest}, {"hydra_oauth2_pkce", rest}} {
		steps = append(steps, struct{ name, sql string }{t.table, tokens(t.table, t.n, c, f)})
	}
	steps = append(steps,
		struct{ name, sql string }{"jti blacklist", fmt.Sprintf(`INSERT INTO hydra_oauth2_jti_blacklist (signature, expires_at)
		SELECT md5('jti-' || i), %s FROM generate_series(1, %d) i`, ts, max(1, f/10))},
		struct{ name, sql string }{"logout requests", fmt.Sprintf(`INSERT INTO hydra_oauth2_logout_request (challenge, verifier,
			subject, sid, client_id, request_url, redir_url, was_used, accepted, rejected, rp_initiated)
		SELECT md5('logout-' || i), md5('lov-' || i), 'user-' || i, md5('session-' || i),
			CASE WHEN i %% 2 = 0 THEN 'client-' || (i %% %d + 1) END, 'https://hydra.example/oauth2/sessions/logout',
			'https://app.example/bye', i %% 3 = 0, i %% 2 = 0, false, i %% 2 = 0
		FROM generate_series(1, %d) i`, c, max(1, f/10))},
		struct{ name, sql string }{"obfuscated sessions", fmt.Sprintf(`INSERT INTO hydra_oauth2_obfuscated_authentication_session
			(subject, client_id, subject_obfuscated)
		SELECT 'user-' || i, 'client-' || (i %% %d + 1), md5('obf-' || i) FROM generate_series(1, %d) i`, c, max(1, f/20))},
		struct{ name, sql string }{"trusted issuers", fmt.Sprintf(`INSERT INTO hydra_oauth2_trusted_jwt_bearer_issuer (id, issuer,
			subject, scope, key_set, key_id, created_at, expires_at, allow_any_subject)
		SELECT md5('iss-' || i)::uuid, 'https://issuer' || i || '.example', 'svc-' || i, 'openid|api', k.sid, k.kid, %s,
			timestamp '2030-01-01', i %% 2 = 0
		FROM generate_series(1, 3) i JOIN (SELECT sid, kid, row_number() OVER (ORDER BY pk) AS n FROM hydra_jwk) k ON k.n = i`, ts)},
		struct{ name, sql string }{"statistics", "ANALYZE"},
	)
	for _, s := range steps {
		if _, err := conn.Exec(ctx, s.sql); err != nil {
			return fmt.Errorf("generating %s: %w", s.name, err)
		}
	}
	return nil
}

// tokens returns the insert of n rows into a token table. A third of
// the rows belong to a consent flow (challenge_id set).
func tokens(table string, n, clients, flows int) string {
	return tokensAs(table, table, n, clients, flows)
}

// tokensAs is tokens into target, a quoted identifier, with signatures
// as Fill gives table.
func tokensAs(target, table string, n, clients, flows int) string {
	return fmt.Sprintf(`INSERT INTO %[6]s (signature, request_id, requested_at, client_id, scope, granted_scope,
		form_data, session_data, subject, active, requested_audience, granted_audience, challenge_id)
	SELECT md5('%[1]s-' || i), md5('req-' || (i / 2)), %[5]s, 'client-' || (i %% %[3]d + 1),
		'openid offline_access', 'openid offline_access',
		'grant_type=authorization_code&redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fcb&code=' || md5('code' || i),
		-- Hydra 1.11 stores session data encrypted: base64 of AES-GCM.
		encode(decode(md5('s1' || i) || md5('s2' || i) || md5('s3' || i) || md5('s4' || i) || md5('s5' || i), 'hex'), 'base64'),
		'user-' || (i %% 50000), i %% 17 <> 0,
		CASE WHEN i %% 2 = 0 THEN 'https://api.example' ELSE '' END, CASE WHEN i %% 2 = 0 THEN 'https://api.example' ELSE '' END,
		CASE WHEN i %% 3 = 0 AND (j %% 10) <> 0 AND (j %% 7) <> 0 AND (j %% 8) <> 0 THEN md5('consent-' || j) END
	FROM generate_series(1, %[2]d) i, LATERAL (SELECT i %% %[4]d + 1 AS j) f`, table, n, clients, flows, ts, target)
}

// TokenTable creates table, a standalone copy of Hydra v1.11's token
// table layout without foreign keys, and fills it with n rows as Fill
// does, for benchmarks that need big tables fast. The rows are written
// in generation order, not key order, as a live server writes them.
func TokenTable(ctx context.Context, conn *pgx.Conn, table string, n int) error {
	id := pgx.Identifier{table}.Sanitize()
	steps := []string{
		fmt.Sprintf(`CREATE TABLE %s (
			signature varchar(255) NOT NULL, request_id varchar(40) NOT NULL,
			requested_at timestamp NOT NULL DEFAULT now(), client_id varchar(255) NOT NULL,
			scope text NOT NULL, granted_scope text NOT NULL, form_data text NOT NULL, session_data text NOT NULL,
			subject varchar(255) NOT NULL DEFAULT '', active boolean NOT NULL DEFAULT true,
			requested_audience text DEFAULT '', granted_audience text DEFAULT '', challenge_id varchar(40))`, id),
		tokensAs(id, table, n, 1000, max(1, n/10)),
		fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (signature)", id),
		fmt.Sprintf("VACUUM (ANALYZE) %s", id),
	}
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("generating %s: %w", table, err)
		}
	}
	return nil
}
