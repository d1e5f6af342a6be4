package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// unresponsive is how long a server may fail its health check during a
// load before the load is abandoned. Requests time out on their own; this
// bounds how long a hung server can keep a run going.
const unresponsive = 10 * time.Second

// watch watches s while a stage runs: when the server exits or stops
// answering its health endpoint for longer than unresponsive, it calls
// stop. The returned function tells why it stopped, or nil.
func watch(ctx context.Context, s *server, stop context.CancelFunc) func() error {
	var (
		mu    sync.Mutex
		cause error
	)
	set := func(err error) {
		mu.Lock()
		if cause == nil {
			cause = err
		}
		mu.Unlock()
		stop()
	}
	client := &http.Client{Timeout: 2 * time.Second}
	go func() {
		lastOK := time.Now()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.Exited():
				set(fmt.Errorf("%s exited: %s", s.Name, logTail(s)))
				return
			case <-t.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.API.Admin+"/health/alive", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					lastOK = time.Now()
					continue
				}
			}
			if ctx.Err() == nil && time.Since(lastOK) > unresponsive {
				set(fmt.Errorf("%s stopped answering its health check for %v: %s",
					s.Name, unresponsive, logTail(s)))
				return
			}
		}
	}()
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		return cause
	}
}

// logTail returns the server's telling log line, secrets scrubbed, for
// an error message.
func logTail(s *server) string {
	if l := s.LastLog(); l != "" && l != "no output" {
		return "last log: " + l
	}
	return "no log output"
}

// guarded runs fn with a context that watch cancels when s exits or
// stops answering, so that a stage of many calls ends at once instead of
// letting each call time out; the error then names the stage, the server
// and its last log line.
func (r *run) guarded(ctx context.Context, s *server, stage string, fn func(context.Context) error) error {
	gctx, stop := context.WithCancel(ctx)
	defer stop()
	cause := watch(gctx, s, stop)
	err := fn(gctx)
	if c := cause(); c != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: %w", stage, c)
	}
	return err
}
