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

// backquoted matches a backquoted span of an error message.
var backquoted = regexp.MustCompile("`[^`]*`")

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
	// A password with a bare '@' may be split there by a driver; its
	// pieces are secrets too.
	for _, s := range slices.Clone(out) {
		if strings.Contains(s, "@") {
			out = append(out, strings.Split(s, "@")...)
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// ErrBareAt says that a URL DSN's user part holds an '@' that is not
// percent-encoded: drivers split such a DSN at different '@'s and would
// take the rest of the password for the host name, which then appears
// in their errors.
var ErrBareAt = errors.New("the user or password holds a bare '@'; percent-encode it as %40")

// CheckDSN returns ErrBareAt for a URL DSN whose authority holds more
// than one '@'. Other mistakes are left to the driver's parser.
func CheckDSN(dsn string) error {
	_, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.Count(rest, "@") > 1 {
		return ErrBareAt
	}
	return nil
}

// shortSecret is the length under which a secret is scrubbed only where
// it stands alone: a password of a few letters is also a piece of many
// words, and scrubbing it inside them would garble the message and, by
// the pattern of the gaps, give the password away.
const shortSecret = 6

// RedactErr returns err with dsn and every secret it holds scrubbed
// from its text. The result does not unwrap to err, since err's own
// text would hold the secrets again.
func RedactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), dsn, Redact(dsn))
	if !strings.Contains(dsn, "://") {
		// A driver quotes a keyword DSN it cannot parse between
		// backquotes, masking the password only up to the first space:
		// the rest of an unquoted password with spaces would show.
		msg = backquoted.ReplaceAllString(msg, "`[redacted dsn]`")
	}
	for _, s := range secrets(dsn) {
		for _, v := range []string{s, url.QueryEscape(s)} {
			if len(v) < shortSecret {
				msg = scrubWord(msg, v)
			} else {
				msg = strings.ReplaceAll(msg, v, "xxxxx")
			}
		}
	}
	return errors.New(msg)
}

// scrubWord replaces the occurrences of s in msg that no letter or
// digit touches on either side.
func scrubWord(msg, s string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, s)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		end := i + len(s)
		if !wordByte(msg, i-1) && !wordByte(msg, end) {
			b.WriteString(msg[:i])
			b.WriteString("xxxxx")
		} else {
			b.WriteString(msg[:end])
		}
		msg = msg[end:]
	}
}

func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
