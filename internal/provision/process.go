package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// A Process is a server started by cutover. Stop ends it.
type Process struct {
	// Name labels the process in errors, for example "old server".
	Name string

	cmd     *exec.Cmd
	exited  chan struct{}
	logs    *tail
	secrets []string
}

// A Command describes a program to run.
type Command struct {
	// Name labels the program in errors.
	Name string
	// Path is the executable.
	Path string
	// Args are the arguments after the program name.
	Args []string
	// Env is added to a minimal environment (PATH, HOME, TMPDIR).
	Env []string
	// Secrets are strings scrubbed from any output quoted in errors.
	Secrets []string
}

func (c Command) build(ctx context.Context) *exec.Cmd {
	var cmd *exec.Cmd
	if ctx != nil {
		cmd = exec.CommandContext(ctx, c.Path, c.Args...)
	} else {
		cmd = exec.Command(c.Path, c.Args...)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if t := os.Getenv("TMPDIR"); t != "" {
		env = append(env, "TMPDIR="+t)
	}
	cmd.Env = append(env, c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Run runs c to completion and returns an error quoting its last output
// line when it fails.
func Run(ctx context.Context, c Command) error {
	cmd := c.build(ctx)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", c.Name, err, scrub(lastLine(out), c.Secrets))
	}
	return nil
}

// Start starts c and waits until GET readyURL answers 200, the process
// exits, or limit passes.
func Start(ctx context.Context, c Command, readyURL string, limit time.Duration) (_ *Process, err error) {
	p := &Process{Name: c.Name, logs: newTail(40), secrets: c.Secrets}
	p.cmd = c.build(nil)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("starting %s: %s not found", c.Name, c.Path)
		}
		return nil, fmt.Errorf("starting %s: %w", c.Name, err)
	}
	p.exited = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.exited) }()
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	if err := p.WaitReady(ctx, readyURL, limit); err != nil {
		return nil, err
	}
	return p, nil
}

// WaitReady waits until GET url answers 200, the process exits, or
// limit passes.
func (p *Process) WaitReady(ctx context.Context, url string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited during start-up: %s", p.Name, p.LastLog())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s", p.Name, limit, p.LastLog())
		}
	}
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// LastLog returns the line of the process's output that most likely says
// why it failed (else its last line), with secrets scrubbed.
func (p *Process) LastLog() string { return scrub(p.logs.Cause(), p.secrets) }

// LogTail returns up to n last output lines, with secrets scrubbed.
func (p *Process) LogTail(n int) []string {
	lines := p.logs.Lines(n)
	for i := range lines {
		lines[i] = scrub(lines[i], p.secrets)
	}
	return lines
}

// Pid returns the operating-system process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 10 s, then kills the process group.
// It is safe to call more than once.
func (p *Process) Stop() {
	if p == nil || p.cmd == nil || p.exited == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	// A stopped (frozen) process only acts on SIGTERM once continued.
	p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
