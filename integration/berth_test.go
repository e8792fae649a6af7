// Package integration drives a real berth binary through the real clients:
// aws-sdk-go-v2, the aws CLI, and plain HTTP for protocol edge cases.
package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// binary is the berth binary built once for the package.
var binary string

// shared is one berth that parallel tests share, each in its own region.
var shared *berth

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-integration")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "berth")
	build := exec.Command("go", "build", "-o", binary, "berth/cmd/berth")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building berth:", err)
		os.Exit(1)
	}
	// Tasks need Docker: without it the suite fails here, loudly.
	if err := buildTestImage(filepath.Join(dir, "image")); err != nil {
		fmt.Fprintln(os.Stderr, "building the test image (is the Docker Engine running?):", err)
		os.Exit(1)
	}
	shared, err = start(filepath.Join(dir, "shared"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting berth:", err)
		os.Exit(1)
	}
	code := m.Run()
	shared.stop()
	shared.removeContainers()
	if code != 0 {
		// berth logs warnings and errors only: what it said helps read a
		// failure, in CI too, where the data directory is gone.
		if log, err := os.ReadFile(shared.log); err == nil {
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			fmt.Fprintf(os.Stderr, "the shared berth's log (last %d lines):\n%s\n", min(len(lines), 200), strings.Join(lines[max(len(lines)-200, 0):], "\n"))
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// testImage is the image of integration/testapp that tasks run: built
// locally FROM scratch, so no registry is needed, and tagged with its
// binary's hash, so that test runs of different trees on one Docker
// Engine never run each other's app. TestMain sets it.
var testImage string

func buildTestImage(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "app"), "berth/integration/testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	app, err := os.ReadFile(filepath.Join(dir, "app"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(app)
	testImage = "berth/testapp:" + hex.EncodeToString(sum[:6])
	dockerfile := "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("docker", "build", "-q", "-t", testImage, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// berth is a running berth process.
type berth struct {
	cmd      *exec.Cmd
	url      string
	dataDir  string
	log      string
	instance string // the berth.instance label on its containers
	registry string // host:port of its image registry
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// networks counts the berth processes started, for their --lb-network.
var networks atomic.Int32

// start runs berth on a free port over dataDir and waits until it serves.
func start(dataDir string, args ...string) (*berth, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dataDir, fmt.Sprintf("berth-%d.log", port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Each berth of the run puts its load balancers on addresses of its
	// own, so that two can listen on one port; the process id spreads the
	// runs of several test processes on one machine apart.
	network := fmt.Sprintf("127.%d.0.0/16", 20+(os.Getpid()+int(networks.Add(1)))%200)
	cmd := newCommand(append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--log-format", "json", "--log-level", "warn", "--lb-network", network,
		"--registry-listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &berth{cmd: cmd, url: "http://" + addr, dataDir: dataDir, log: logPath}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(b.url + "/_berth/health")
		if err == nil {
			var health struct{ Instance, Registry string }
			err := json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && err == nil {
				b.instance, b.registry = health.Instance, health.Registry
				return b, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.kill()
	return nil, errors.New("berth did not become healthy; see " + logPath)
}

// newCommand is the berth binary with args, not yet started.
func newCommand(args ...string) *exec.Cmd { return exec.Command(binary, args...) }

// startT is start for one test, stopped when the test ends.
func startT(t *testing.T, dataDir string, args ...string) *berth {
	t.Helper()
	b, err := start(dataDir, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.kill()
		b.removeContainers()
	})
	return b
}

// removeContainers removes the containers and networks b created.
func (b *berth) removeContainers() {
	filter := "label=berth.instance=" + b.instance
	if ids := dockerLines("ps", "-aq", "--filter", filter); len(ids) > 0 {
		exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
	if ids := dockerLines("network", "ls", "-q", "--filter", filter); len(ids) > 0 {
		exec.Command("docker", append([]string{"network", "rm"}, ids...)...).Run()
	}
}

// dockerLines runs the docker CLI and returns its output's lines.
func dockerLines(args ...string) []string {
	out, _ := exec.Command("docker", args...).Output()
	return strings.Fields(string(out))
}

// stop sends SIGTERM and waits for a clean exit.
func (b *berth) stop() error {
	if b.cmd.ProcessState != nil {
		return nil
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	return b.cmd.Wait()
}

func (b *berth) kill() {
	if b.cmd.ProcessState == nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
	}
}

var regions atomic.Int64

// newRegion returns a region no other test uses, so tests sharing one berth
// never see each other's resources.
func newRegion() string { return fmt.Sprintf("test-%d", regions.Add(1)) }

// clients are the SDK clients of one test, scoped to one region.
type clients struct {
	ecs   *ecs.Client
	elbv2 *elasticloadbalancingv2.Client
	acm   *acm.Client
	ec2   *ec2.Client
	iam   *iam.Client
	logs  *cloudwatchlogs.Client
	sts   *sts.Client
	ssm   *ssm.Client
	// secretsmanager is the Secrets Manager client.
	secretsmanager *secretsmanager.Client
	cloudwatch     *cloudwatch.Client // Smithy RPC v2 CBOR, as this SDK speaks it
	scaling        *applicationautoscaling.Client
	region         string
}

func (b *berth) clients(region string) clients {
	return b.clientsAs(region, credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""))
}

// clientsAs are clients that sign with creds.
func (b *berth) clientsAs(region string, creds aws.CredentialsProvider) clients {
	return clients{
		region: region,
		ecs: ecs.New(ecs.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		elbv2: elasticloadbalancingv2.New(elasticloadbalancingv2.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		acm: acm.New(acm.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		ec2: ec2.New(ec2.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		iam: iam.New(iam.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		logs: cloudwatchlogs.New(cloudwatchlogs.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		sts: sts.New(sts.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		ssm: ssm.New(ssm.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		secretsmanager: secretsmanager.New(secretsmanager.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		cloudwatch: cloudwatch.New(cloudwatch.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
		scaling: applicationautoscaling.New(applicationautoscaling.Options{
			Region: region, BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer(),
		}),
	}
}

// connectionRetryer retries what the SDK's default retryer retries at the
// transport level (a connection closed or reset under the client, a client
// side race in net/http: aws/aws-sdk-go-v2#2737) and nothing else, so that
// every API error berth returns reaches the test on the first attempt.
func connectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.MaxAttempts = 5
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return time.Duration(attempt) * 20 * time.Millisecond, nil
		})
		o.RateLimiter = ratelimit.None
	})
}

// setup gives a parallel test its own region on the shared berth.
func setup(t *testing.T) (context.Context, clients) {
	t.Parallel()
	return context.Background(), shared.clients(newRegion())
}

// result holds what an SDK call returned, for try(call).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must fails the test if the call failed and returns its value.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// wantErr checks that err is the SDK's typed exception E.
func wantErr[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("got error %v, want %T", err, target)
	}
	return target
}

// wantCode checks the error code the SDK parsed from an error response,
// for codes it does not model as types (such as ELBv2's ValidationError).
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}
