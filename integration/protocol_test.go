package integration

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// post sends a raw request to the shared berth.
func post(t *testing.T, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	return postTo(t, shared, header, body)
}

// postTo sends a raw, unsigned request to b.
func postTo(t *testing.T, b *berth, header http.Header, payload string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.url+"/", strings.NewReader(payload))
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func jsonHeader(op string) http.Header {
	return http.Header{"X-Amz-Target": {"AmazonEC2ContainerServiceV20141113." + op}, "Content-Type": {"application/x-amz-json-1.1"}}
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// TestJSONProtocolErrors: bad ECS requests get the protocol's own error,
// status 400, in the envelope the SDKs parse.
func TestJSONProtocolErrors(t *testing.T) {
	t.Parallel()
	for i, c := range []struct {
		header http.Header
		body   string
		code   string
	}{
		{jsonHeader("NoSuchOperation"), `{}`, "UnknownOperationException"},
		{http.Header{"X-Amz-Target": {"Nonsense"}}, `{}`, "UnknownOperationException"},
		{http.Header{"X-Amz-Target": {"."}}, `{}`, "UnknownOperationException"},
		{jsonHeader("CreateCluster"), `{"clusterName":`, "SerializationException"},
		{jsonHeader("CreateCluster"), `{"clusterName":42}`, "SerializationException"},
		{jsonHeader("ListClusters"), `{"maxResults":"ten"}`, "SerializationException"},
		{jsonHeader("ExecuteCommand"), `{}`, "UnsupportedFeatureException"},
		{func() http.Header {
			h := jsonHeader("ListClusters")
			h.Set("Authorization", "AWS4-HMAC-SHA256 Credential=broken")
			return h
		}(), `{}`, "IncompleteSignature"},
	} {
		resp, body := post(t, c.header, c.body)
		var env struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil || env.Type != c.code || resp.StatusCode != 400 ||
			resp.Header.Get("X-Amzn-ErrorType") != c.code || resp.Header.Get("X-Amzn-RequestId") == "" || env.Message == "" {
			t.Errorf("(%d) %d %s %q, want 400 %s", i, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, c.code)
		}
	}
}

// TestQueryProtocolErrors: bad ELBv2 requests get query-protocol errors.
func TestQueryProtocolErrors(t *testing.T) {
	t.Parallel()
	for i, c := range []struct{ body, code string }{
		{"Version=2015-12-01", "MissingAction"},
		{"Action=NoSuchAction&Version=2015-12-01", "InvalidAction"},
		{"Action=DescribeLoadBalancers&Version=2012-06-01", "InvalidAction"},
		{"Action=DescribeLoadBalancers&Version=2015-12-01&PageSize=many", "ValidationError"},
		{"Action=DescribeLoadBalancers&Version=2015-12-01&PageSize=0", "ValidationError"},
		{"Action=DescribeLoadBalancers&Version=2015-12-01&%zz", "MalformedQueryString"},
	} {
		resp, body := post(t, formHeader, c.body)
		var env struct {
			Error     struct{ Type, Code, Message string }
			RequestID string `xml:"RequestId"`
		}
		if err := xml.Unmarshal([]byte(body), &env); err != nil || env.Error.Code != c.code || env.Error.Type != "Sender" ||
			resp.StatusCode != 400 || env.RequestID == "" {
			t.Errorf("(%d) %d %q, want 400 %s", i, resp.StatusCode, body, c.code)
		}
	}
}

func TestHealthAndUnsignedRequests(t *testing.T) {
	t.Parallel()
	resp, err := http.Get(shared.url + "/_berth/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	// An unsigned request (curl, scripts) is served in the default scope.
	r, body := post(t, jsonHeader("ListClusters"), `{}`)
	if r.StatusCode != 200 || !strings.Contains(body, "clusterArns") {
		t.Fatalf("unsigned ListClusters: %d %s", r.StatusCode, body)
	}
	form := url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}}
	r, body = post(t, formHeader, form.Encode())
	if r.StatusCode != 200 || !strings.Contains(body, "<DescribeLoadBalancersResult>") {
		t.Fatalf("unsigned DescribeLoadBalancers: %d %s", r.StatusCode, body)
	}
}

// TestAccountScoping: access keys map to accounts, and each account sees
// only its own resources.
func TestAccountScoping(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--accounts", "AKIDONE=111111111111,AKIDTWO=222222222222")
	ctx := context.Background()
	client := func(key string) *ecs.Client {
		return ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(b.url), Credentials: credentials.NewStaticCredentialsProvider(key, "s", "")})
	}
	one := try(client("AKIDONE").CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("mine")})).must(t)
	if aws.ToString(one.Cluster.ClusterArn) != "arn:aws:ecs:eu-west-1:111111111111:cluster/mine" {
		t.Fatalf("cluster ARN = %s", aws.ToString(one.Cluster.ClusterArn))
	}
	d := try(client("AKIDTWO").DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"mine"}})).must(t)
	if len(d.Clusters) != 0 {
		t.Fatal("account 222222222222 sees account 111111111111's cluster")
	}
}

// TestSignatureVerification: with --verify-signatures only known keys with
// correct signatures are served.
func TestSignatureVerification(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--verify-signatures", "--secrets", "AKIDGOOD=right")
	ctx := context.Background()
	client := func(key, secret string) (*ecs.Client, *elbv2.Client) {
		creds := credentials.NewStaticCredentialsProvider(key, secret, "")
		return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer()}),
			elbv2.New(elbv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Credentials: creds, Retryer: connectionRetryer()})
	}
	good, goodLB := client("AKIDGOOD", "right")
	try(good.ListClusters(ctx, &ecs.ListClustersInput{})).must(t)
	try(goodLB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t)
	wrong, wrongLB := client("AKIDGOOD", "wrong")
	_, err := wrong.ListClusters(ctx, &ecs.ListClustersInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
	_, err = wrongLB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
	// An unknown key is UnrecognizedClientException in JSON services
	// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html) and
	// InvalidClientTokenId in query ones
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).
	unknown, unknownLB := client("AKIDNOBODY", "x")
	_, err = unknown.ListClusters(ctx, &ecs.ListClustersInput{})
	wantCode(t, err, "UnrecognizedClientException")
	_, err = unknownLB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	wantCode(t, err, "InvalidClientTokenId")
	// No signature at all is MissingAuthenticationToken (same page), not
	// a way around verification.
	anonymous := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Credentials: aws.AnonymousCredentials{}, Retryer: connectionRetryer()})
	_, err = anonymous.ListClusters(ctx, &ecs.ListClustersInput{})
	wantCode(t, err, "MissingAuthenticationTokenException")
	anonymousLB := elbv2.New(elbv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Credentials: aws.AnonymousCredentials{}, Retryer: connectionRetryer()})
	_, err = anonymousLB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	wantCode(t, err, "MissingAuthenticationToken")
	if resp, err := http.Post(b.url+"/_berth/reset", "application/json", nil); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned POST /_berth/reset = %v %v, want 403", resp, err)
	}
}

// TestRegistryTokenNotForgeable: the registry's tokens are signed with a
// key only berth knows. The key used to be derived from the instance id,
// which /_berth/health tells anyone, so a token made with it passed the
// registry's authentication without a GetAuthorizationToken call
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html:
// a token comes from GetAuthorizationToken, with IAM credentials).
func TestRegistryTokenNotForgeable(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--lb-network", "none")
	key := sha256.Sum256([]byte("berth ECR tokens\x00" + b.instance))
	claim := "000000000000." + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(claim))
	req, _ := http.NewRequest(http.MethodGet, "http://"+b.registry+"/v2/", nil)
	req.SetBasicAuth("AWS", claim+"."+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with a token made from the instance id: %s, want 401", resp.Status)
	}
}
