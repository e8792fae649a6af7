package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// signedAt is the fixed time the hand-signed requests are signed at.
var signedAt = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// verifying is a server with --verify-signatures over a fresh store, whose
// clock is real time until a test sets it.
type verifying struct {
	*httptest.Server
	now    atomic.Int64 // unix nanoseconds; 0 is real time
	resets atomic.Int32
}

func newVerifying(t *testing.T) *verifying {
	v := &verifying{}
	clock := func() time.Time {
		if n := v.now.Load(); n != 0 {
			return time.Unix(0, n)
		}
		return time.Now()
	}
	reset := func(context.Context) error { v.resets.Add(1); return nil }
	v.Server = httptest.NewServer(newTestServerWith(t, Config{
		DefaultAccount: "000000000000", DefaultRegion: "us-east-1",
		Secrets: map[string]string{"AKIDEXAMPLE": "secret"}, VerifySignatures: true, Clock: clock,
	}, reset))
	t.Cleanup(v.Close)
	return v
}

func (v *verifying) setClock(t time.Time) { v.now.Store(t.UnixNano()) }

// send sends req, signed by key and secret at signing (presigned for
// expires seconds when expires > 0; not signed when key is ""), and
// returns the status and the error code of the answer.
func (v *verifying) send(t *testing.T, req *http.Request, body []byte, service, key, secret string, signing time.Time, expires string) (int, string) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	switch {
	case key == "":
	case expires != "":
		q := req.URL.Query()
		q.Set("X-Amz-Expires", expires)
		req.URL.RawQuery = q.Encode()
		url, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", signing)
		if err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequest(req.Method, url, nil)
	default:
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", signing); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	code := res.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		if _, after, ok := strings.Cut(string(raw), "<Code>"); ok {
			code, _, _ = strings.Cut(after, "</Code>")
		}
	}
	if code == "" && res.StatusCode >= 400 {
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(raw, &e)
		code = e.Type
	}
	return res.StatusCode, code
}

func (v *verifying) ecsRequest(body string) (*http.Request, []byte) {
	req, _ := http.NewRequest(http.MethodPost, v.URL+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	return req, []byte(body)
}

func (v *verifying) elbRequest() (*http.Request, []byte) {
	body := "Action=DescribeLoadBalancers&Version=2015-12-01"
	req, _ := http.NewRequest(http.MethodPost, v.URL+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, []byte(body)
}

// apiError is the code and HTTP status of an SDK error.
func apiError(err error) (string, int) {
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		return "", 0
	}
	return ae.ErrorCode(), re.HTTPStatusCode()
}

// TestVerifySignaturesUnsigned: with --verify-signatures, a request that
// carries no signature is refused, as AWS refuses it: MissingAuthenticationToken,
// 403 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html),
// under the JSON protocol's Exception suffix for ECS. It used to be served
// as the default account, which bypassed verification altogether.
func TestVerifySignaturesUnsigned(t *testing.T) {
	v := newVerifying(t)
	ctx := context.Background()
	anonymous := sdkConfig(v.URL, "", "")
	anonymous.Credentials = aws.AnonymousCredentials{}
	_, err := ecs.NewFromConfig(anonymous).ListClusters(ctx, &ecs.ListClustersInput{})
	if code, status := apiError(err); code != "MissingAuthenticationTokenException" || status != http.StatusForbidden {
		t.Errorf("unsigned ECS ListClusters: %v, want MissingAuthenticationTokenException (403)", err)
	}
	_, err = elbv2.NewFromConfig(anonymous).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if code, status := apiError(err); code != "MissingAuthenticationToken" || status != http.StatusForbidden {
		t.Errorf("unsigned ELBv2 DescribeLoadBalancers: %v, want MissingAuthenticationToken (403)", err)
	}

	// Signed with the right secret, the same calls succeed; with another,
	// they are SignatureDoesNotMatch; by an unknown key, the protocol's
	// unknown-key error (InvalidClientTokenId in the query common errors,
	// UnrecognizedClientException in JSON services':
	// https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
	if _, err := ecs.NewFromConfig(sdkConfig(v.URL, "AKIDEXAMPLE", "secret")).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Errorf("signed ECS ListClusters: %v", err)
	}
	if _, err := elbv2.NewFromConfig(sdkConfig(v.URL, "AKIDEXAMPLE", "secret")).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("signed ELBv2 DescribeLoadBalancers: %v", err)
	}
	_, err = ecs.NewFromConfig(sdkConfig(v.URL, "AKIDEXAMPLE", "wrong")).ListClusters(ctx, &ecs.ListClustersInput{})
	if code, status := apiError(err); code != "SignatureDoesNotMatch" || status != http.StatusForbidden {
		t.Errorf("ECS ListClusters with a wrong secret: %v, want SignatureDoesNotMatch (403)", err)
	}
	_, err = ecs.NewFromConfig(sdkConfig(v.URL, "AKIDOTHER", "secret")).ListClusters(ctx, &ecs.ListClustersInput{})
	if code, status := apiError(err); code != "UnrecognizedClientException" || status != http.StatusForbidden {
		t.Errorf("ECS ListClusters by an unknown key: %v, want UnrecognizedClientException (403)", err)
	}
	_, err = elbv2.NewFromConfig(sdkConfig(v.URL, "AKIDOTHER", "secret")).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if code, status := apiError(err); code != "InvalidClientTokenId" || status != http.StatusForbidden {
		t.Errorf("ELBv2 DescribeLoadBalancers by an unknown key: %v, want InvalidClientTokenId (403)", err)
	}
}

// TestVerifySignaturesClockSkew: a signature more than 15 minutes from the
// server's clock, either way, is RequestExpired, 400
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html),
// in both protocols; within 15 minutes it is accepted.
func TestVerifySignaturesClockSkew(t *testing.T) {
	v := newVerifying(t)
	v.setClock(signedAt)
	for i, c := range []struct {
		skew   time.Duration // of the signature from the server's clock
		status int
		code   string
	}{
		{0, http.StatusOK, ""},
		{-14 * time.Minute, http.StatusOK, ""},
		{14 * time.Minute, http.StatusOK, ""},
		{-16 * time.Minute, http.StatusBadRequest, "RequestExpired"},
		{16 * time.Minute, http.StatusBadRequest, "RequestExpired"},
		{-24 * time.Hour, http.StatusBadRequest, "RequestExpired"},
	} {
		req, body := v.ecsRequest("{}")
		if status, code := v.send(t, req, body, "ecs", "AKIDEXAMPLE", "secret", signedAt.Add(c.skew), ""); status != c.status || code != c.code {
			t.Errorf("(%d) ECS signed %v off: %d %s, want %d %s", i, c.skew, status, code, c.status, c.code)
		}
		req, body = v.elbRequest()
		if status, code := v.send(t, req, body, "elasticloadbalancing", "AKIDEXAMPLE", "secret", signedAt.Add(c.skew), ""); status != c.status || code != c.code {
			t.Errorf("(%d) ELBv2 signed %v off: %d %s, want %d %s", i, c.skew, status, code, c.status, c.code)
		}
	}
}

// TestVerifySignaturesPresignedExpiry: a presigned request is good from
// X-Amz-Date for X-Amz-Expires seconds and RequestExpired after
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html,
// query string authentication; RequestExpired, 400, in
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).
func TestVerifySignaturesPresignedExpiry(t *testing.T) {
	v := newVerifying(t)
	get := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, v.URL+"/?Action=DescribeLoadBalancers&Version=2015-12-01", nil)
		return req
	}
	for i, c := range []struct {
		after  time.Duration // the server's clock after signing
		status int
		code   string
	}{
		{0, http.StatusOK, ""},
		{59 * time.Second, http.StatusOK, ""},
		{61 * time.Second, http.StatusBadRequest, "RequestExpired"},
		{time.Hour, http.StatusBadRequest, "RequestExpired"},
	} {
		v.setClock(signedAt.Add(c.after))
		if status, code := v.send(t, get(), nil, "elasticloadbalancing", "AKIDEXAMPLE", "secret", signedAt, "60"); status != c.status || code != c.code {
			t.Errorf("(%d) presigned for 60 s, %v later: %d %s, want %d %s", i, c.after, status, code, c.status, c.code)
		}
	}
}

// TestVerifySignaturesReset: with --verify-signatures, /_berth/reset and
// /moto-api/reset, which wipe every account, take a valid signature as an
// API call does; unsigned or badly signed, nothing is reset. The health,
// CA and hosts paths stay open: they change nothing and tell no secret.
func TestVerifySignaturesReset(t *testing.T) {
	v := newVerifying(t)
	v.setClock(signedAt)
	for i, path := range []string{"/_berth/reset", "/moto-api/reset"} {
		post := func() *http.Request { req, _ := http.NewRequest(http.MethodPost, v.URL+path, nil); return req }
		if status, code := v.send(t, post(), nil, "berth", "", "", signedAt, ""); status != http.StatusForbidden || code != "MissingAuthenticationTokenException" {
			t.Errorf("unsigned POST %s: %d %s, want 403 MissingAuthenticationTokenException", path, status, code)
		}
		if status, code := v.send(t, post(), nil, "berth", "AKIDEXAMPLE", "wrong", signedAt, ""); status != http.StatusForbidden || code != "SignatureDoesNotMatch" {
			t.Errorf("POST %s with a wrong secret: %d %s, want 403 SignatureDoesNotMatch", path, status, code)
		}
		if status, code := v.send(t, post(), nil, "berth", "AKIDEXAMPLE", "secret", signedAt.Add(-time.Hour), ""); status != http.StatusBadRequest || code != "RequestExpired" {
			t.Errorf("POST %s signed an hour ago: %d %s, want 400 RequestExpired", path, status, code)
		}
		if n := v.resets.Load(); n != int32(i) {
			t.Fatalf("%d resets ran, %d with a valid signature", n, i)
		}
		if status, _ := v.send(t, post(), nil, "berth", "AKIDEXAMPLE", "secret", signedAt, ""); status != http.StatusOK {
			t.Errorf("signed POST %s: %d, want 200", path, status)
		}
	}
	if n := v.resets.Load(); n != 2 {
		t.Errorf("%d resets ran, want 2", n)
	}
	for _, path := range []string{"/_berth/health", "/_berth/ca.pem", "/_berth/hosts"} {
		req, _ := http.NewRequest(http.MethodGet, v.URL+path, nil)
		if status, _ := v.send(t, req, nil, "", "", "", signedAt, ""); status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, status)
		}
	}
}

// TestVerifySignaturesSessionToken: temporary credentials count only with
// their session token (X-Amz-Security-Token,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html);
// without it, or with another, the key is as unknown as any other:
// UnrecognizedClientException in JSON services, 403
// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
func TestVerifySignaturesSessionToken(t *testing.T) {
	v := newVerifying(t)
	ctx := context.Background()
	session, err := sts.NewFromConfig(sdkConfig(v.URL, "AKIDEXAMPLE", "secret")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	cr := session.Credentials
	as := func(token string) error {
		cfg := sdkConfig(v.URL, "", "")
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, *cr.SecretAccessKey, token)
		_, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
		return err
	}
	if err := as(*cr.SessionToken); err != nil {
		t.Errorf("with the session token: %v", err)
	}
	for name, token := range map[string]string{"without a session token": "", "with another session token": *cr.SessionToken + "x"} {
		if code, status := apiError(as(token)); code != "UnrecognizedClientException" || status != http.StatusForbidden {
			t.Errorf("%s: %s %d, want UnrecognizedClientException (403)", name, code, status)
		}
	}
	// A long-term key with a session token it never had.
	cfg := sdkConfig(v.URL, "", "")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", *cr.SessionToken)
	_, err = ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
	if code, status := apiError(err); code != "UnrecognizedClientException" || status != http.StatusForbidden {
		t.Errorf("a long-term key with a session token: %s %d, want UnrecognizedClientException (403)", code, status)
	}
}

// TestVerifySignaturesRoute53: Route 53's REST-XML requests (the SDK
// signs them for us-east-1, service route53) verify like the others, and
// an unsigned one is refused in Route 53's error envelope.
func TestVerifySignaturesRoute53(t *testing.T) {
	v := newVerifying(t)
	client := route53.New(route53.Options{Region: "eu-west-1", BaseEndpoint: aws.String(v.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RetryMaxAttempts: 1})
	zone, err := client.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("r1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id, StartRecordName: aws.String("a b.example.com"), MaxItems: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	bad := route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(v.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wrong", ""), RetryMaxAttempts: 1})
	_, err = bad.GetHostedZoneCount(context.Background(), &route53.GetHostedZoneCountInput{})
	if code, status := apiError(err); code != "SignatureDoesNotMatch" || status != http.StatusForbidden {
		t.Fatalf("a wrong signature = %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, v.URL+"/2013-04-01/hostedzonecount", nil)
	if status, code := v.send(t, req, nil, "route53", "", "", signedAt, ""); status != http.StatusForbidden || code != "MissingAuthenticationToken" {
		t.Fatalf("unsigned = %d %s", status, code)
	}
}

// TestRoute53Routing: a path no operation has is 404, a method the path
// does not take 405, both in Route 53's error envelope.
func TestRoute53Routing(t *testing.T) {
	srv := httptest.NewServer(newTestServerWith(t, Config{DefaultAccount: "000000000000", DefaultRegion: "us-east-1"}, nil))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/2013-04-01/nothing", http.StatusNotFound},
		{http.MethodPut, "/2013-04-01/hostedzone", http.StatusMethodNotAllowed},
		{http.MethodGet, "/2013-04-01/hostedzone/ZNOPE", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || !strings.Contains(string(body), `<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">`) {
			t.Errorf("%s %s = %d %s", c.method, c.path, res.StatusCode, body)
		}
	}
}
