// assay's Go test runner, compiled into one program with the solution and the tests.
//
// The harness puts the solution and the test file in package main (their own main renamed)
// and generates assay__tests, the table of the test file's func TestXxx(t *testing.T). The
// tests run one at a time through the standard testing package, as `go test` runs them, so
// t.Error, t.Fatal, t.Run and t.Skip behave as users expect. Each test runs under a time
// limit; a panic in the test's goroutine is an ERROR, a failed test a FAIL. What cannot be
// survived (a hang, a panic in a goroutine the test started, os.Exit) ends the process:
// the harness then restarts it for the tests not yet run, named on the command line.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const assay__messageLimit = 2000

// Taken before the code under test runs: package variables are initialised before any
// init function, in the order of the files (this one's name sorts first), and the
// variable is gone from the environment afterwards.
var assay__report = assay__openReport()

func assay__openReport() *os.File {
	defer os.Unsetenv("ASSAY_REPORT_FD")
	fd, err := strconv.Atoi(os.Getenv("ASSAY_REPORT_FD"))
	if err != nil {
		return nil
	}
	syscall.CloseOnExec(fd) // programs the solution starts do not inherit it
	return os.NewFile(uintptr(fd), "assay-report")
}

func assay__emit(event map[string]any) {
	line, err := json.Marshal(event)
	if err != nil || assay__report == nil {
		return
	}
	assay__report.Write(append(line, '\n'))
}

func assay__short(text string) string {
	if len(text) <= assay__messageLimit {
		return text
	}
	return text[:assay__messageLimit] + "..."
}

func assay__matchAll(pattern, name string) (bool, error) { return true, nil }

func main() {
	// testing.RunTests runs nothing until testing.Main has set the package up (its flags,
	// the -test.cpu list), so the runner itself is the one test testing.Main runs; it
	// calls RunTests for each test and never returns.
	testing.Main(assay__matchAll, []testing.InternalTest{{Name: "assay", F: assay__drive}},
		nil, nil)
}

func assay__drive(*testing.T) {
	names := make([]string, 0, len(assay__tests))
	for _, test := range assay__tests {
		names = append(names, test.Name)
	}
	if len(names) == 0 {
		assay__emit(map[string]any{"fatal": "no tests found: the test file defines no " +
			"func TestXxx(t *testing.T)"})
		os.Exit(0)
	}
	assay__emit(map[string]any{"collect": names})
	only := map[string]bool{}
	for _, name := range os.Args[1:] {
		only[name] = true
	}
	timeout := 5 * time.Second
	if seconds, err := strconv.ParseFloat(os.Getenv("ASSAY_TEST_TIMEOUT"), 64); err == nil {
		timeout = time.Duration(seconds * float64(time.Second))
	}
	for _, test := range assay__tests {
		if len(only) == 0 || only[test.Name] {
			assay__runWithDeadline(test, timeout)
		}
	}
	assay__emit(map[string]any{"done": true})
	os.Exit(0)
}

type assay__outcome struct {
	status, message string
}

func assay__runWithDeadline(test testing.InternalTest, timeout time.Duration) {
	assay__emit(map[string]any{"start": test.Name})
	began := time.Now()
	finished := make(chan assay__outcome, 1)
	go func() { finished <- assay__execute(test) }()
	timer := time.NewTimer(timeout)
	select {
	case outcome := <-finished:
		timer.Stop()
		assay__emit(map[string]any{"result": test.Name, "status": outcome.status,
			"message": assay__short(outcome.message), "time": time.Since(began).Seconds()})
	case <-timer.C:
		// A goroutine cannot be stopped from outside: report, and let the harness start
		// a fresh process for the tests after this one.
		assay__emit(map[string]any{"result": test.Name, "status": "TIMEOUT",
			"message": fmt.Sprintf("test exceeded its %g s time limit", timeout.Seconds()),
			"time":    timeout.Seconds()})
		os.Exit(3)
	}
}

// assay__execute runs one test through testing.RunTests. What the testing package prints
// (the "--- FAIL" block with the t.Error messages) goes to a pipe: it takes os.Stdout as
// its output when RunTests starts, and the test itself gets the real stdout back.
func assay__execute(test testing.InternalTest) assay__outcome {
	realStdout := os.Stdout
	reader, writer, err := os.Pipe()
	if err != nil {
		return assay__outcome{"ERROR", "runner: " + err.Error()}
	}
	captured := make(chan string, 1)
	go func() { captured <- assay__readCapped(reader) }()
	var panicMessage string
	var skipped bool
	wrapped := testing.InternalTest{Name: test.Name, F: func(t *testing.T) {
		os.Stdout = realStdout
		defer func() {
			if value := recover(); value != nil {
				panicMessage = fmt.Sprintf("panic: %v%s", value, assay__panicSite())
				t.Fail()
			}
			skipped = t.Skipped()
		}()
		test.F(t)
	}}
	os.Stdout = writer
	passed := testing.RunTests(assay__matchAll, []testing.InternalTest{wrapped})
	os.Stdout = realStdout
	writer.Close()
	output := <-captured
	reader.Close()
	switch {
	case panicMessage != "":
		return assay__outcome{"ERROR", panicMessage}
	case !passed:
		return assay__outcome{"FAIL", assay__failureMessage(test.Name, output)}
	case skipped:
		return assay__outcome{"ERROR", "the test was skipped (t.Skip), so it did not run"}
	}
	return assay__outcome{"PASS", ""}
}

func assay__readCapped(reader *os.File) string {
	var kept []byte
	buffer := make([]byte, 32*1024)
	for {
		n, err := reader.Read(buffer)
		if room := 64*1024 - len(kept); room > 0 {
			kept = append(kept, buffer[:min(n, room)]...)
		}
		if err != nil {
			return string(kept)
		}
	}
}

var assay__duration = regexp.MustCompile(`\s*\(\d+(\.\d+)?s\)\s*$`)

// assay__failureMessage keeps what the test logged, without the testing package's
// "--- FAIL: Name (0.00s)" header of the test itself.
func assay__failureMessage(name, output string) string {
	var lines []string
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--- FAIL: "+name+" (") ||
			strings.HasPrefix(line, "--- SKIP: "+name+" (") {
			continue
		}
		lines = append(lines, assay__duration.ReplaceAllString(line, ""))
	}
	if len(lines) == 0 {
		return "the test failed without a message (t.Fail)"
	}
	return strings.Join(lines, "\n")
}

// assay__panicSite names where the recovered panic happened, and the line of the test
// that led there: " (at solution.go:7, from tests.go:12)". Called by the deferred function
// that recovered, so the panicking frames are still on the stack.
func assay__panicSite() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	var site, fromTest string
	for {
		frame, more := frames.Next()
		file := filepath.Base(frame.File)
		user := !strings.HasPrefix(frame.Function, "runtime.") &&
			!strings.HasPrefix(file, "assay_") && strings.HasSuffix(file, ".go") &&
			!strings.HasPrefix(frame.Function, "testing.")
		if user {
			where := fmt.Sprintf("%s:%d", file, frame.Line)
			if site == "" {
				site = where
			}
			if file == "tests.go" && fromTest == "" {
				fromTest = where
			}
		}
		if !more {
			break
		}
	}
	switch {
	case site == "":
		return ""
	case fromTest == "" || fromTest == site:
		return " (at " + site + ")"
	}
	return " (at " + site + ", from " + fromTest + ")"
}
