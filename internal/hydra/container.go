package hydra

import "strconv"

// MigrateArgs returns the arguments of the migration command for
// version; the DSN is read from the environment variable DSN.
func MigrateArgs(version string) []string {
	if Major(version) >= 2 {
		return []string{"migrate", "sql", "up", "--yes", "--read-from-env"}
	}
	return []string{"migrate", "sql", "--yes", "--read-from-env"}
}

// ServeArgs returns the arguments of "hydra serve all" for version.
func ServeArgs(version string) []string {
	if Major(version) >= 2 {
		return []string{"serve", "all", "--dev"}
	}
	return []string{"serve", "all", "--dangerous-force-http"}
}

// ContainerEnv returns the environment of a server in a container: it
// listens on all the container's interfaces at publicPort and
// adminPort, which the caller publishes on the same port numbers of
// 127.0.0.1, so that the issuer URL (and every redirect Hydra builds
// from it) is reachable from the host. cfg.DSN is the database as seen
// from the container; cfg.Binary is not used.
func ContainerEnv(cfg Config, publicPort, adminPort int) map[string]string {
	pub := strconv.Itoa(publicPort)
	env := map[string]string{
		"DSN":               cfg.DSN,
		"SECRETS_SYSTEM":    cfg.SystemSecret,
		"URLS_SELF_ISSUER":  "http://127.0.0.1:" + pub + "/",
		"URLS_LOGIN":        LoginURL,
		"URLS_CONSENT":      ConsentURL,
		"SERVE_PUBLIC_PORT": pub,
		"SERVE_ADMIN_PORT":  strconv.Itoa(adminPort),
		"SERVE_PUBLIC_HOST": "0.0.0.0",
		"SERVE_ADMIN_HOST":  "0.0.0.0",
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	return env
}

// Secrets returns the strings to scrub from cfg's server output: the
// system secret, the DSN and its password.
func Secrets(cfg Config) []string { return secrets(cfg) }
