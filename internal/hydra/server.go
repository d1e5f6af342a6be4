package hydra

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cutover-dev/cutover/internal/provision"
)

// Fixed URLs the login/consent driver recognises. Hydra redirects the
// browser there; the driver intercepts the redirect and never fetches
// them, so nothing needs to listen on them.
const (
	LoginURL    = "http://127.0.0.1/cutover/login"
	ConsentURL  = "http://127.0.0.1/cutover/consent"
	CallbackURL = "http://127.0.0.1/cutover/callback"
)

// A Config describes one Hydra server process.
type Config struct {
	// Name labels the server in errors ("old server").
	Name string
	// Version is the release, e.g. "v1.11.10"; it selects the command
	// line and API layout.
	Version string
	// Binary is the hydra executable.
	Binary string
	// DSN is the database connection string; it holds a password.
	DSN string
	// SystemSecret is SECRETS_SYSTEM, at least 32 characters, the same
	// on both sides so that old tokens validate on the new server.
	SystemSecret string
	// Env holds extra environment variables, applied last.
	Env map[string]string
}

// Major returns the major version number of a "vMAJOR.…" version.
func Major(version string) int {
	v := strings.TrimPrefix(version, "v")
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}

// Migrate runs the server's SQL migrations on cfg.DSN.
func Migrate(ctx context.Context, cfg Config) error {
	args := []string{"migrate", "sql", "--yes", "--read-from-env"}
	if Major(cfg.Version) >= 2 {
		args = []string{"migrate", "sql", "up", "--yes", "--read-from-env"}
	}
	return provision.Run(ctx, provision.Command{
		Name: "hydra " + cfg.Version + " migrate", Path: cfg.Binary, Args: args,
		Env: []string{"DSN=" + cfg.DSN}, Secrets: secrets(cfg),
	})
}

// A Server is a running Hydra process and the API to reach it.
type Server struct {
	*provision.Process
	API *API
}

// Serve starts "hydra serve all" on two free loopback ports and waits
// until the admin health endpoint reports ready.
func Serve(ctx context.Context, cfg Config) (*Server, error) {
	pub, err := provision.FreePort()
	if err != nil {
		return nil, err
	}
	adm, err := provision.FreePort()
	if err != nil {
		return nil, err
	}
	publicURL := "http://127.0.0.1:" + strconv.Itoa(pub)
	adminURL := "http://127.0.0.1:" + strconv.Itoa(adm)
	env := map[string]string{
		"DSN":               cfg.DSN,
		"SECRETS_SYSTEM":    cfg.SystemSecret,
		"URLS_SELF_ISSUER":  publicURL + "/",
		"URLS_LOGIN":        LoginURL,
		"URLS_CONSENT":      ConsentURL,
		"SERVE_PUBLIC_PORT": strconv.Itoa(pub),
		"SERVE_ADMIN_PORT":  strconv.Itoa(adm),
		"SERVE_PUBLIC_HOST": "127.0.0.1",
		"SERVE_ADMIN_HOST":  "127.0.0.1",
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	args := []string{"serve", "all", "--dangerous-force-http"}
	if Major(cfg.Version) >= 2 {
		args = []string{"serve", "all", "--dev"}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var envList []string
	for _, k := range keys {
		envList = append(envList, k+"="+env[k])
	}
	p, err := provision.Start(ctx, provision.Command{
		Name: cfg.Name + " (hydra " + cfg.Version + ")", Path: cfg.Binary, Args: args,
		Env: envList, Secrets: secrets(cfg),
	}, adminURL+"/health/ready", 60*time.Second)
	if err != nil {
		return nil, err
	}
	// The admin port can answer before the public one listens.
	if err := p.WaitReady(ctx, publicURL+"/health/alive", 30*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Server{Process: p, API: NewAPI(cfg.Version, publicURL, adminURL)}, nil
}

func secrets(cfg Config) []string {
	s := []string{cfg.SystemSecret, cfg.DSN}
	if i := strings.Index(cfg.DSN, "://"); i >= 0 {
		if at := strings.LastIndex(cfg.DSN, "@"); at > i {
			if _, pw, ok := strings.Cut(cfg.DSN[i+3:at], ":"); ok {
				s = append(s, pw)
			}
		}
	}
	return s
}

// String describes the server without secrets.
func (s *Server) String() string {
	return fmt.Sprintf("%s public=%s admin=%s", s.Name, s.API.Public, s.API.Admin)
}
