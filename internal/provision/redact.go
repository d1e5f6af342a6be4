package provision

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// secretParam reports whether a DSN parameter carries a secret: the
// password, the password of the TLS key, and anything named like one.
func secretParam(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "token")
}

// Redact returns dsn with its passwords replaced by "xxxxx", for logs
// and errors: the password of the user part and every secret query
// parameter (password, sslpassword). A DSN that does not parse as a URL,
// such as the keyword form "host=… password=…", is replaced whole.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "[redacted dsn]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k, vs := range q {
			if secretParam(k) {
				for i := range vs {
					vs[i] = "xxxxx"
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// keywordSecret finds the secret values of a keyword/value DSN.
var keywordSecret = regexp.MustCompile(`(?i)\b([a-z]*(?:password|secret|token)[a-z]*)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// secrets returns the secret values a DSN holds, longest first.
func secrets(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
		for k, vs := range u.Query() {
			if secretParam(k) {
				out = append(out, vs...)
			}
		}
	} else {
		for _, m := range keywordSecret.FindAllStringSubmatch(dsn, -1) {
			out = append(out, strings.Trim(m[2], "'"))
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// RedactErr returns err with dsn and every secret it holds scrubbed
// from its text. The result does not unwrap to err, since err's own
// text would hold the secrets again.
func RedactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), dsn, Redact(dsn))
	for _, s := range secrets(dsn) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if e := url.QueryEscape(s); e != s {
			msg = strings.ReplaceAll(msg, e, "xxxxx")
		}
	}
	return errors.New(msg)
}
