package provision

import (
	"errors"
	"net/url"
	"strings"
)

// Redact returns dsn with its password replaced by "xxxxx", for logs
// and errors. A DSN that does not parse as a URL is replaced whole.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "[redacted dsn]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// RedactErr returns err with every occurrence of dsn's password
// scrubbed from its text. The result does not unwrap to err, since
// err's own text would hold the password again.
func RedactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	u, perr := url.Parse(dsn)
	if perr != nil {
		return errors.New(strings.ReplaceAll(err.Error(), dsn, "[redacted dsn]"))
	}
	msg := strings.ReplaceAll(err.Error(), dsn, Redact(dsn))
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return errors.New(msg)
}
