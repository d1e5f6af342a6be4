package provision

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"postgres://app:Secret1@127.0.0.1:5432/db", "postgres://app:xxxxx@127.0.0.1:5432/db"},
		{"postgres://app@127.0.0.1:5432/db?sslpassword=Ssl2&password=Query3&sslmode=disable",
			"postgres://app@127.0.0.1:5432/db?password=xxxxx&sslmode=disable&sslpassword=xxxxx"},
		{"postgres://app@127.0.0.1/db?sslmode=disable", "postgres://app@127.0.0.1/db?sslmode=disable"},
		{"host=127.0.0.1 password=Kw4 dbname=db", "[redacted dsn]"},
	}
	for _, tt := range tests {
		if got := Redact(tt.dsn); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestRedactErr(t *testing.T) {
	tests := []struct {
		dsn     string
		secrets []string
	}{
		{"postgres://app:Secret1@127.0.0.1:5432/db", []string{"Secret1"}},
		{"postgres://app@127.0.0.1/db?sslpassword=Ssl2&password=Query3", []string{"Ssl2", "Query3"}},
		{"postgres://app:p%40ss5@127.0.0.1/db", []string{"p@ss5", "p%40ss5"}},
		{"host=127.0.0.1 password=Kw4 dbname=db", []string{"Kw4"}},
		{"host=127.0.0.1 password='Kw 6' dbname=db", []string{"Kw 6"}},
	}
	for _, tt := range tests {
		err := RedactErr(errors.New("connecting to "+tt.dsn+" failed: "+strings.Join(tt.secrets, ", ")), tt.dsn)
		for _, s := range tt.secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("RedactErr(%q) = %q: still holds %q", tt.dsn, err, s)
			}
		}
	}
	if RedactErr(nil, "postgres://x") != nil {
		t.Error("RedactErr(nil) is not nil")
	}
}

func TestRedactErrShortSecrets(t *testing.T) {
	tests := []struct {
		name, dsn, msg, want string
	}{
		{"short password inside words is left",
			"host=127.0.0.1 password=a port=x",
			"cannot parse `host=127.0.0.1 password=xxxxx port=x`: invalid port",
			"cannot parse `[redacted dsn]`: invalid port"},
		{"unquoted password with spaces in a keyword DSN",
			"host=127.0.0.1 password=correct horse battery staple dbname=x port=y",
			"cannot parse `host=127.0.0.1 password=xxxxx horse battery staple dbname=x port=y`: invalid port",
			"cannot parse `[redacted dsn]`: invalid port"},
		{"short password standing alone is scrubbed",
			"postgres://u:ab1@127.0.0.1/db", "auth failed for ab1 (u:ab1)", "auth failed for xxxxx (u:xxxxx)"},
		{"pieces of a password split at a bare @",
			"postgres://trial:p@ss-Word9@127.0.0.1:5432/db",
			"hostname resolving error: lookup ss-Word9@127.0.0.1: no such host",
			"hostname resolving error: lookup xxxxx@127.0.0.1: no such host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactErr(errors.New(tt.msg), tt.dsn).Error(); got != tt.want {
				t.Errorf("RedactErr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want error
	}{
		{"postgres://trial:p@ss@127.0.0.1:5432/db", ErrBareAt},
		{"postgresql://a@b@c/db?sslmode=disable", ErrBareAt},
		{"postgres://trial:p%40ss@127.0.0.1:5432/db", nil},
		{"postgres://127.0.0.1/db?options=a@b", nil},
		{"host=127.0.0.1 password=p@ss", nil},
	}
	for _, tt := range tests {
		if got := CheckDSN(tt.dsn); !errors.Is(got, tt.want) {
			t.Errorf("CheckDSN(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}
