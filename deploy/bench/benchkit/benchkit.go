// Package benchkit holds what the benchmark commands under deploy/bench
// share: running the site binary as a child, waiting for it to answer, and
// measuring and reporting what it did.
package benchkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Site is one run of `familylinks serve` as a child process.
type Site struct {
	// Cmd is the running command; its Process is set.
	Cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, valid after done
}

// StartSite starts `bin serve` in dir with env, its output going to log.
func StartSite(bin string, env []string, dir string, log io.Writer) (*Site, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Dir = dir // not the checkout: var/dev.env must not leak in
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so a Ctrl-C reaches only the bench, which
	// then stops the site in order; and dies with the bench.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Site{Cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	return s, nil
}

// Done is closed once the process has exited and been reaped.
func (s *Site) Done() <-chan struct{} { return s.done }

// Err is the process's exit error (as from Wait); valid after Done.
func (s *Site) Err() error { return s.err }

// Exited reports whether the process has exited and been reaped.
func (s *Site) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stop ends the site with SIGTERM, then SIGKILL after 15 s.
func (s *Site) Stop() {
	if s.Exited() {
		return
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.done
	}
}

// CPU is the user+system time the process used; valid after it exited.
func (s *Site) CPU() time.Duration {
	if s.Cmd.ProcessState == nil {
		return 0
	}
	return s.Cmd.ProcessState.UserTime() + s.Cmd.ProcessState.SystemTime()
}

// WaitHealthy polls base+"/healthz" every interval until it answers 200,
// the site exits or ctx ends.
func WaitHealthy(ctx context.Context, s *Site, base string, every time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if s.Exited() {
			return fmt.Errorf("the site exited: %v", s.err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tool runs a familylinks subcommand (bin args...) in dir with env, feeding
// it stdin (nothing if empty), and returns its standard output.
func Tool(bin, dir string, env []string, stdin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("familylinks %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// WithKeys adds a fresh FAMILYLINKS_DATA_KEY and FAMILYLINKS_CSRF_KEY,
// made by bin, to env; it also returns the data key.
func WithKeys(bin, dir string, env []string) ([]string, string, error) {
	key, err := Tool(bin, dir, env, "", "keygen")
	if err != nil {
		return nil, "", err
	}
	csrf, err := Tool(bin, dir, env, "", "keygen", "--csrf")
	if err != nil {
		return nil, "", err
	}
	key = strings.TrimSpace(key)
	return append(env, "FAMILYLINKS_DATA_KEY="+key, "FAMILYLINKS_CSRF_KEY="+strings.TrimSpace(csrf)), key, nil
}

// WithoutFamilyLinksEnv is the environment minus anything that would point
// the site somewhere else.
func WithoutFamilyLinksEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FAMILYLINKS_") || k == "DATABASE_URL" || strings.HasPrefix(k, "MEILI_") || strings.HasPrefix(k, "PG") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// CPUTimes is the first line of /proc/stat: the machine's busy and total
// clock ticks over all cores.
type CPUTimes struct{ busy, total uint64 }

// MachineCPU reads the machine's CPU times (zero if /proc/stat is unreadable).
func MachineCPU() CPUTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t CPUTimes
	for i, s := range f[1:] {
		n, _ := strconv.ParseUint(s, 10, 64)
		if i == 7 || i == 8 { // guest time is already in user
			continue
		}
		t.total += n
		if i != 3 && i != 4 { // idle, iowait
			t.busy += n
		}
	}
	return t
}

// BusySince is the busy fraction of all cores between two readings; false
// if no time passed between them.
func (t CPUTimes) BusySince(before CPUTimes) (float64, bool) {
	if t.total <= before.total {
		return 0, false
	}
	return float64(t.busy-before.busy) / float64(t.total-before.total), true
}

// Busy is BusySince as a percentage of all cores, such as "73%", or "?".
func Busy(after, before CPUTimes) string {
	f, ok := after.BusySince(before)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// ProcessCPU is a process's user+system time from /proc/PID/stat (clock
// ticks of 1/100 s on Linux); 0 if it cannot be read.
func ProcessCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// SummarizeLog counts the site's JSON log lines in the file at path by
// message and error, and describes the five most frequent.
func SummarizeLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "empty"
	}
	counts := map[string]int{}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct{ Msg, Err string }
		key := line
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg != "" {
			key = e.Msg
			if e.Err != "" {
				key += ": " + e.Err
			}
		}
		if len(key) > 120 {
			key = key[:120] + "…"
		}
		if counts[key] == 0 {
			keys = append(keys, key)
		}
		counts[key]++
	}
	slices.SortStableFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
	var out []string
	for _, k := range keys[:min(len(keys), 5)] {
		out = append(out, fmt.Sprintf("%d× %q", counts[k], k))
	}
	if len(keys) > 5 {
		out = append(out, fmt.Sprintf("and %d other messages", len(keys)-5))
	}
	return strings.Join(out, "; ")
}

// Tail returns the end of the site's log at path, for an error message,
// or "" if there is none.
func Tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nsite log (end):\n" + string(b)
}

// MS formats d in milliseconds with the given number of decimals, such as
// "1.25ms".
func MS(d time.Duration, decimals int) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', decimals, 64) + "ms"
}
