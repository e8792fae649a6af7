package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain runs the test binary as berth itself when asked to, so that
// the tests can check exit statuses and output of the real main.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_AS_BERTH") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// environment is a fixed environment for parseFlags.
func environment(vars ...string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, v := range vars {
			if k, value, _ := strings.Cut(v, "="); k == name {
				return value, true
			}
		}
		return "", false
	}
}

// TestParseFlags: commands may come before or after the flags; unknown
// commands, unknown flags, flags a command does not take and leftover
// arguments are usage errors rather than ignored.
func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args         []string
		listen, show string
		usage        string // a part of the usage error; "" for none
	}{
		{args: nil, listen: "127.0.0.1:4566"},
		{args: []string{"serve", "--listen", "127.0.0.1:1"}, listen: "127.0.0.1:1"},
		{args: []string{"--listen", "127.0.0.1:1", "serve", "--runtime", "none"}, listen: "127.0.0.1:1"},
		{args: []string{"--listen", "127.0.0.1:1"}, listen: "127.0.0.1:1"},
		{args: []string{"--listen", "127.0.0.1:1", "hosts"}, listen: "127.0.0.1:1", show: "/_berth/hosts"},
		{args: []string{"hosts", "--listen", "127.0.0.1:1"}, listen: "127.0.0.1:1", show: "/_berth/hosts"},
		{args: []string{"ca"}, listen: "127.0.0.1:4566", show: "/_berth/ca.pem"},
		{args: []string{"srve", "--listen", "127.0.0.1:1"}, usage: `unknown command "srve"`},
		{args: []string{"--listen", "127.0.0.1:1", "srve"}, usage: `unknown command "srve"`},
		{args: []string{"serve", "extra"}, usage: `unexpected argument "extra"`},
		{args: []string{"hosts", "ca"}, usage: `unexpected argument "ca"`},
		{args: []string{"hosts", "--data-dir", "/tmp/x"}, usage: "does not take --data-dir"},
		{args: []string{"--verify-signatures", "ca"}, usage: "does not take --verify-signatures"},
		{args: []string{"--bogus"}, usage: "not defined"},
		{args: []string{"serve", "--listen"}, usage: "needs an argument"},
	} {
		c.args = append([]string(nil), c.args...)
		got, err := parseFlags(c.args, environment(), io.Discard)
		var usage *usageError
		switch {
		case c.usage != "" && (!errors.As(err, &usage) || !strings.Contains(err.Error(), c.usage)):
			t.Errorf("berth %s: %v, want a usage error with %q", strings.Join(c.args, " "), err, c.usage)
		case c.usage == "" && err != nil:
			t.Errorf("berth %s: %v", strings.Join(c.args, " "), err)
		case c.usage == "" && (got.listen != c.listen || got.show != c.show):
			t.Errorf("berth %s: listen %q, show %q; want %q, %q", strings.Join(c.args, " "), got.listen, got.show, c.listen, c.show)
		}
	}
}

// TestCloudWatchMinute: --cloudwatch-minute is a minute unless given, from
// the flag or BERTH_CLOUDWATCH_MINUTE, and at least a second.
func TestCloudWatchMinute(t *testing.T) {
	for _, c := range []struct {
		args  []string
		env   []string
		want  time.Duration
		usage bool
	}{
		{want: time.Minute},
		{args: []string{"--cloudwatch-minute", "2s"}, want: 2 * time.Second},
		{env: []string{"BERTH_CLOUDWATCH_MINUTE=5s"}, want: 5 * time.Second},
		{args: []string{"--cloudwatch-minute", "10ms"}, usage: true},
		{args: []string{"--cloudwatch-minute", "often"}, usage: true},
	} {
		got, err := parseFlags(c.args, environment(c.env...), io.Discard)
		var usage *usageError
		switch {
		case c.usage && !errors.As(err, &usage):
			t.Errorf("%q %q: %v, want a usage error", c.args, c.env, err)
		case !c.usage && (err != nil || got.cloudwatchMinute != c.want):
			t.Errorf("%q %q: %v, %v; want %v", c.args, c.env, got.cloudwatchMinute, err, c.want)
		}
	}
}

// TestEnvironment: BERTH_<FLAG> sets a flag's default; booleans take what
// strconv.ParseBool takes (https://pkg.go.dev/strconv#ParseBool: 1, t, T,
// TRUE, true, True, 0, f, F, FALSE, false, False) and anything else is a
// usage error, not false.
func TestEnvironment(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{{"1", true}, {"t", true}, {"TRUE", true}, {"true", true}, {"True", true}, {"0", false}, {"f", false}, {"FALSE", false}, {"false", false}} {
		got, err := parseFlags(nil, environment("BERTH_VERIFY_SIGNATURES="+c.value), io.Discard)
		if err != nil || got.verifySignatures != c.want {
			t.Errorf("BERTH_VERIFY_SIGNATURES=%s: %v, %v; want %v", c.value, got.verifySignatures, err, c.want)
		}
	}
	for _, value := range []string{"yes", "on", "", "2"} {
		_, err := parseFlags(nil, environment("BERTH_VERIFY_SIGNATURES="+value), io.Discard)
		var usage *usageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "BERTH_VERIFY_SIGNATURES") {
			t.Errorf("BERTH_VERIFY_SIGNATURES=%s: %v, want a usage error naming the variable", value, err)
		}
	}
	// A flag on the command line beats its variable; the variable of a
	// flag a command does not take is no error (the environment is shared).
	got, err := parseFlags([]string{"--listen", "127.0.0.1:2"}, environment("BERTH_LISTEN=127.0.0.1:1", "BERTH_DATA_DIR=/tmp/d"), io.Discard)
	if err != nil || got.listen != "127.0.0.1:2" || got.dataDir != "/tmp/d" {
		t.Errorf("flag and environment: %+v %v", got, err)
	}
	got, err = parseFlags([]string{"hosts"}, environment("BERTH_LISTEN=127.0.0.1:1", "BERTH_DATA_DIR=/tmp/d"), io.Discard)
	if err != nil || got.listen != "127.0.0.1:1" || got.show != "/_berth/hosts" {
		t.Errorf("hosts with BERTH_LISTEN and BERTH_DATA_DIR: %+v %v", got, err)
	}
	// Actions have no variable: BERTH_VERSION does not turn berth into a
	// version printer.
	if got, err := parseFlags(nil, environment("BERTH_VERSION=1", "BERTH_CLEAN_CONTAINERS=1"), io.Discard); err != nil || got.showVersion || got.cleanContainers {
		t.Errorf("BERTH_VERSION=1 BERTH_CLEAN_CONTAINERS=1: %+v %v", got, err)
	}
}

// berth runs berth (this test binary as main) with args and returns its
// exit status, stdout and stderr. A berth that serves instead of exiting
// is killed at the deadline and fails the test.
func berth(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RUN_AS_BERTH=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("berth %s did not exit: %s", strings.Join(args, " "), stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestExitStatus: usage errors exit with status 2 and print the usage,
// without serving; `berth --listen X hosts` prints the hosts of the berth
// at X. Both used to start a server (on the default port, for the first).
func TestExitStatus(t *testing.T) {
	for _, args := range [][]string{
		{"srve", "--listen", "127.0.0.1:0"},
		{"serve", "--listen", "127.0.0.1:0", "extra"},
		{"--no-such-flag"},
	} {
		status, _, stderr := berth(t, args...)
		if status != 2 || !strings.Contains(stderr, "usage: berth") {
			t.Errorf("berth %s: exit status %d, stderr %q; want 2 and the usage", strings.Join(args, " "), status, stderr)
		}
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_berth/hosts" {
			io.WriteString(w, "127.10.0.1\tweb-123.us-east-1.elb.amazonaws.com\n")
			return
		}
		http.NotFound(w, r)
	}))
	defer fake.Close()
	listen := strings.TrimPrefix(fake.URL, "http://")
	for _, args := range [][]string{{"--listen", listen, "hosts"}, {"hosts", "--listen", listen}} {
		status, stdout, stderr := berth(t, args...)
		if status != 0 || stdout != "127.10.0.1\tweb-123.us-east-1.elb.amazonaws.com\n" {
			t.Errorf("berth %s: exit status %d, stdout %q, stderr %q", strings.Join(args, " "), status, stdout, stderr)
		}
	}
}
