package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUTimes is the first line of /proc/stat: the machine's busy and total
// clock ticks over all cores.
type CPUTimes struct{ busy, total uint64 }

// MachineCPU reads the machine's CPU times (zero if /proc/stat is unreadable).
func MachineCPU() CPUTimes {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	var t CPUTimes
	for i, s := range strings.Fields(line)[min(1, len(line)):] {
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
	if f, ok := after.BusySince(before); ok {
		return fmt.Sprintf("%.0f%%", 100*f)
	}
	return "?"
}

// ProcessCPU is a process's user+system time from /proc/PID/stat (clock
// ticks of 1/100 s on Linux); 0 if it cannot be read.
func ProcessCPU(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// The command name is in parentheses and may hold spaces.
	_, rest, _ := strings.Cut(string(b), ") ")
	if f := strings.Fields(rest); len(f) >= 13 {
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(ut+st) * 10 * time.Millisecond
	}
	return 0
}

// RSS is the resident set size of process pid in bytes (0 if unreadable).
func RSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	_, rest, _ := strings.Cut(string(b), "VmRSS:")
	if f := strings.Fields(rest); len(f) > 0 {
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		return kb << 10
	}
	return 0
}

// MS formats d in milliseconds with the given number of decimals, such as
// "1.25ms".
func MS(d time.Duration, decimals int) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', decimals, 64) + "ms"
}
