package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cli runs the real aws CLI against berth in one region and decodes its
// JSON output into out (when out is not nil).
type cli struct {
	t      *testing.T
	url    string
	region string
}

func (c cli) run(out any, args ...string) {
	c.t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		c.t.Fatal("the aws CLI is not installed: run `make deps`")
	}
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--region", c.region, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			c.t.Fatalf("aws %s: decoding %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
}

// output runs a command and returns what it prints.
func (c cli) output(args ...string) string {
	c.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--region", c.region}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// fails runs a command that must fail with the given AWS error code.
func (c cli) fails(code string, args ...string) {
	c.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--region", c.region}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "("+code+")") {
		c.t.Fatalf("aws %s = %v %s, want error %s", strings.Join(args, " "), err, out, code)
	}
}
