package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"berth/awsproto"
)

func TestParseHeader(t *testing.T) {
	c, err := ParseHeader("AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if err != nil || c.AccessKey != "AKID" || c.Region != "eu-west-1" || c.Service != "ecs" || c.Signature != "abc" || len(c.SignedHeaders) != 2 {
		t.Fatalf("ParseHeader = %+v, %v", c, err)
	}
	// (0) wrong algorithm, (1) missing parts, (2) bad scope, (3) no access key.
	for i, h := range []struct{ header, code string }{
		{"AWS4-HMAC-SHA1 Credential=a/20260101/r/s/aws4_request, SignedHeaders=host, Signature=x", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/r/s/aws4_request", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=a/r/s, SignedHeaders=host, Signature=x", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=/20260101/r/s/aws4_request, SignedHeaders=host, Signature=x", "InvalidClientTokenId"},
	} {
		_, err := ParseHeader(h.header)
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != h.code {
			t.Errorf("(%d) ParseHeader(%q) = %v, want %s", i, h.header, err, h.code)
		}
	}
}

// signedAt is the fixed signing time of the tests.
var signedAt = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// TestVerify signs requests with the SDK's own signer and checks them.
func TestVerify(t *testing.T) {
	body := []byte(`{"clusterName":"web"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/?x=1&a=b%20c", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster")
	payloadHash := hashHex(body)
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "ecs", "us-east-1", signedAt); err != nil {
		t.Fatal(err)
	}
	c, ok, err := Parse(req)
	if !ok || err != nil {
		t.Fatalf("Parse: %v %v", ok, err)
	}
	if err := Verify(req, body, c, "secret", signedAt); err != nil {
		t.Fatalf("Verify with the right secret: %v", err)
	}
	var ae *awsproto.Error
	if err := Verify(req, body, c, "wrong", signedAt); !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
		t.Fatalf("Verify with a wrong secret = %v", err)
	}
	if err := Verify(req, []byte(`{}`), c, "secret", signedAt); err == nil {
		t.Fatal("Verify accepted a changed body")
	}

	// Presigned query authentication.
	get, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:4566/?Action=DescribeLoadBalancers&Version=2015-12-01", nil)
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, get, hashHex(nil), "elasticloadbalancing", "eu-west-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	pre, _ := http.NewRequest(http.MethodGet, url, nil)
	pc, ok, err := Parse(pre)
	if !ok || err != nil || pc.Region != "eu-west-1" || !pc.Presigned {
		t.Fatalf("Parse presigned = %+v %v %v", pc, ok, err)
	}
	if err := Verify(pre, nil, pc, "secret", signedAt); err != nil {
		t.Fatalf("Verify presigned: %v", err)
	}
}

// TestVerifyTime: a signature is current for 15 minutes either side of
// the server's clock, and a presigned one until X-Amz-Date plus
// X-Amz-Expires; otherwise the request is RequestExpired (400), as the
// common errors of every service say
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).
// X-Amz-Expires takes 1 to 604800 seconds
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
func TestVerifyTime(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	signed := func() (*http.Request, Credential) {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", bytes.NewReader([]byte("{}")))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex([]byte("{}")), "ecs", "us-east-1", signedAt); err != nil {
			t.Fatal(err)
		}
		c, _, err := Parse(req)
		if err != nil {
			t.Fatal(err)
		}
		return req, c
	}
	presigned := func(expires string) (*http.Request, Credential) {
		u := "http://127.0.0.1:4566/?Action=DescribeLoadBalancers&Version=2015-12-01"
		if expires != "" {
			u += "&X-Amz-Expires=" + expires
		}
		get, _ := http.NewRequest(http.MethodGet, u, nil)
		url, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, get, hashHex(nil), "elasticloadbalancing", "us-east-1", signedAt)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		c, _, err := Parse(req)
		if err != nil {
			t.Fatal(err)
		}
		return req, c
	}
	// (0)-(4) a header signature, (5)-(9) a presigned URL valid for 60 s,
	// (10)-(11) one without X-Amz-Expires, (12)-(14) bad X-Amz-Expires.
	for i, c := range []struct {
		req  func() (*http.Request, Credential)
		now  time.Duration // after signedAt
		code string        // "" when the signature is current
	}{
		{signed, 0, ""},
		{signed, 15 * time.Minute, ""},
		{signed, -15 * time.Minute, ""},
		{signed, 15*time.Minute + time.Second, "RequestExpired"},
		{signed, -15*time.Minute - time.Second, "RequestExpired"},
		{func() (*http.Request, Credential) { return presigned("60") }, 0, ""},
		{func() (*http.Request, Credential) { return presigned("60") }, 60 * time.Second, ""},
		{func() (*http.Request, Credential) { return presigned("60") }, 61 * time.Second, "RequestExpired"},
		{func() (*http.Request, Credential) { return presigned("60") }, 24 * time.Hour, "RequestExpired"},
		{func() (*http.Request, Credential) { return presigned("60") }, -16 * time.Minute, "RequestExpired"},
		{func() (*http.Request, Credential) { return presigned("") }, 14 * time.Minute, ""},
		{func() (*http.Request, Credential) { return presigned("") }, 16 * time.Minute, "RequestExpired"},
		{func() (*http.Request, Credential) { return presigned("0") }, 0, "IncompleteSignature"},
		{func() (*http.Request, Credential) { return presigned("604801") }, 0, "IncompleteSignature"},
		{func() (*http.Request, Credential) { return presigned("soon") }, 0, "IncompleteSignature"},
	} {
		req, cred := c.req()
		err := Verify(req, []byte("{}"), cred, "secret", signedAt.Add(c.now))
		if req.Method == http.MethodGet {
			err = Verify(req, nil, cred, "secret", signedAt.Add(c.now))
		}
		var ae *awsproto.Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("(%d) at %v: %v, want the signature accepted", i, c.now, err)
		case c.code != "" && (!errors.As(err, &ae) || ae.Code != c.code || ae.Status != http.StatusBadRequest):
			t.Errorf("(%d) at %v: %v, want %s (400)", i, c.now, err, c.code)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, seed := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
		"AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=, Signature=", "Basic dXNlcjpwYXNz", ",,,===",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		_, err := ParseHeader(h)
		var ae *awsproto.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("ParseHeader returned %T", err)
		}
	})
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestVerifyCoversBody: the signature covers the body itself, whatever
// hash the request claims for it. Replaying a signed request with another
// body and the original body's hash in X-Amz-Content-Sha256 is refused
// (the hostile review's replay: a signed GetCallerIdentity turned into an
// AssumeRole), as S3 refuses a claimed hash that does not match
// (XAmzContentSHA256Mismatch,
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html);
// a client that sends the right hash, in either case, still verifies.
func TestVerifyCoversBody(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	original := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	signed := func(body []byte, header string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			req.Header.Set("X-Amz-Content-Sha256", header)
		}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex(body), "sts", "us-east-1", signedAt); err != nil {
			t.Fatal(err)
		}
		return req
	}
	req := signed(original, "")
	c, _, _ := Parse(req)
	forged := []byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/x&RoleSessionName=evil")
	req.Header.Set("X-Amz-Content-Sha256", hashHex(original))
	var ae *awsproto.Error
	if err := Verify(req, forged, c, "secret", signedAt); !errors.As(err, &ae) || ae.Code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("a replay with another body and the original's hash = %v", err)
	}
	if err := Verify(req, original, c, "secret", signedAt); err != nil {
		t.Fatalf("the original body with its hash claimed: %v", err)
	}
	upper := signed(original, strings.ToUpper(hashHex(original)))
	uc, _, _ := Parse(upper)
	if err := Verify(upper, original, uc, "secret", signedAt); err != nil {
		t.Fatalf("a claimed hash in upper case: %v", err)
	}
	unsigned := signed(forged, "UNSIGNED-PAYLOAD")
	unc, _, _ := Parse(unsigned)
	if err := Verify(unsigned, forged, unc, "secret", signedAt); err == nil {
		t.Fatal("UNSIGNED-PAYLOAD accepted for a body")
	}
}
