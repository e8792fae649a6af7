package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// BenchmarkRegistry measures berth's registry with 100 MB of layers (four
// of 25 MB, random, so that nothing compresses them): pushing them over
// HTTP as docker does (for each, a POST, one streamed PATCH and a PUT with
// the digest), pulling them back, and, to compare, writing the same bytes
// to files on the same disk. Then, once, `docker push` and `docker pull`
// of an image of those layers, end to end. Run it with `make bench`.
func BenchmarkRegistry(b *testing.B) {
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error", "--runtime", "none", "--lb-network", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	ctx := context.Background()
	client := ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", "")})
	if _, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	token, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		b.Fatal(err)
	}
	basic, _ := base64.StdEncoding.DecodeString(*token.AuthorizationData[0].AuthorizationToken)
	password := strings.TrimPrefix(string(basic), "AWS:")
	repo := "http://" + srv.registry + "/v2/000000000000/us-east-1/bench"

	layers := make([][]byte, 4)
	digests := make([]string, len(layers))
	for i := range layers {
		layers[i] = make([]byte, 25<<20)
		rand.Read(layers[i])
		sum := sha256.Sum256(layers[i])
		digests[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	do := func(method, url string, body io.Reader) *http.Response {
		req, _ := http.NewRequest(method, url, body)
		req.SetBasicAuth("AWS", password)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode >= 300 {
			b.Fatalf("%s %s: %s", method, url, res.Status)
		}
		return res
	}
	dir := b.TempDir()
	var push, pull, disk time.Duration
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		for i, l := range layers {
			res := do("POST", repo+"/blobs/uploads/", nil)
			location := "http://" + srv.registry + res.Header.Get("Location")
			res.Body.Close()
			do("PATCH", location, bytes.NewReader(l)).Body.Close()
			do("PUT", location+"?digest="+digests[i], nil).Body.Close()
		}
		push += time.Since(began)
		began = time.Now()
		for _, d := range digests {
			res := do("GET", repo+"/blobs/"+d, nil)
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		pull += time.Since(began)
		began = time.Now()
		for i, l := range layers {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("layer", i)), l, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		disk += time.Since(began)
	}
	b.StopTimer()
	mb := float64(100 * b.N)
	b.ReportMetric(mb/push.Seconds(), "push-MB/s")
	b.ReportMetric(mb/pull.Seconds(), "pull-MB/s")
	b.ReportMetric(mb/disk.Seconds(), "disk-write-MB/s")
	b.ReportMetric(push.Seconds()/disk.Seconds(), "push/disk-time")

	// docker push and pull of an image of these layers, once.
	for i := range layers {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("layer", i)), layers[i], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	dockerfile := "FROM scratch\nCOPY layer0 /0\nCOPY layer1 /1\nCOPY layer2 /2\nCOPY layer3 /3\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	image := srv.registry + "/000000000000/us-east-1/bench:big"
	config := b.TempDir()
	run := func(stdin string, args ...string) time.Duration {
		cmd := exec.Command("docker", append([]string{"--config", config}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		began := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(began)
	}
	run(password, "login", "--username", "AWS", "--password-stdin", srv.registry)
	run("", "build", "-q", "-t", image, dir)
	defer exec.Command("docker", "rmi", "-f", image).Run()
	b.ReportMetric(run("", "push", image).Seconds(), "docker-push-s")
	run("", "rmi", image)
	b.ReportMetric(run("", "pull", image).Seconds(), "docker-pull-s")
}
