package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// observer sits between vegeta and the network. It reads refresh
// answers on their way to vegeta to advance the chain they rotate, and
// runs an authorization-code operation as one whole flow. It is the
// only place that sees response bodies.
type observer struct {
	st      *state
	timeout time.Duration // per request, to the end of the body
	next    http.RoundTripper
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), o.timeout)
	resp, err := o.roundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends its request's context when closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (o *observer) roundTrip(req *http.Request) (*http.Response, error) {
	tg, ok := parseFragment("#" + req.URL.Fragment)
	switch {
	case ok && tg.op == AuthorizationCode && tg.n >= 0 && o.st.ep.AuthorizationCode != nil:
		return o.authorizationCode(req, tg.n)
	case !ok || tg.op != Refresh || tg.n < 0:
		return o.next.RoundTrip(req)
	}
	resp, err := o.next.RoundTrip(req)
	if err != nil {
		o.st.done(tg.n, 0, "")
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err == nil && resp.StatusCode == 200 {
		json.Unmarshal(body, &tok)
	}
	o.st.done(tg.n, resp.StatusCode, tok.RefreshToken)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

// authorizationCode runs flow n through the endpoints' driver and
// answers vegeta with its final status, so that vegeta measures the
// whole flow as one request. The tokens it yields are dropped.
func (o *observer) authorizationCode(req *http.Request, n int) (*http.Response, error) {
	ep := o.st.ep
	c := ep.Clients[n%len(ep.Clients)]
	status, err := ep.AuthorizationCode(req.Context(), c, o.st.subject(n))
	if status == 0 && err != nil {
		return nil, err
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Request: req,
		Body: io.NopCloser(strings.NewReader(msg)), ContentLength: int64(len(msg))}, nil
}
