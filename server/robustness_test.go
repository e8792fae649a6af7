package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestNoServerFaults calls every served operation with empty and odd
// inputs: each must answer with a client error or success, never a 500
// (which is what a nil dereference on a missing member would become).
func TestNoServerFaults(t *testing.T) {
	s := newTestServer(t)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for _, body := range []string{`{}`, `{"cluster":"default","service":"x","taskDefinition":"x","tasks":["x"],"services":["x"],"containerInstances":["x"],"resourceArn":"x","tags":[{}],"attributes":[{}],"taskSets":["x"]}`,
		`{"CertificateArn":"x","DomainName":"","Certificate":"eA==","PrivateKey":"eA==","Tags":[{}],"SubjectAlternativeNames":[""]}`,
		`{"ServiceNamespace":"ecs","ScalableDimension":"ecs:service:DesiredCount","ResourceId":"service/c/s","PolicyName":"p","PolicyType":"TargetTrackingScaling","TargetTrackingScalingPolicyConfiguration":{"CustomizedMetricSpecification":{"Metrics":[{}]}},"StepScalingPolicyConfiguration":{"StepAdjustments":[{}]},"ScalableTargetAction":{},"Schedule":"cron(","ScheduledActionName":"a","MinCapacity":5,"MaxCapacity":1,"ResourceARN":"x","Tags":{"":""}}`} {
		for prefix, svc := range s.json {
			for op := range svc.ops {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("X-Amz-Target", prefix+"."+op)
				if w := serve(req); w.Code >= 500 {
					t.Errorf("%s %s %s: %d %s", svc.name, op, body, w.Code, w.Body)
				}
			}
		}
	}
	for service, svc := range s.cbor {
		for op := range svc.ops {
			for _, body := range []string{"", "\xa0", "\xbf\xff", "\x01", "\xa1\x69Namespace\x01"} {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/service/"+service+"/operation/"+op, strings.NewReader(body))
				req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
				if w := serve(req); w.Code >= 500 {
					t.Errorf("%s %s %q: %d %s", svc.name, op, body, w.Code, w.Body)
				}
			}
		}
	}
	for _, path := range []string{"/", "/service/GraniteServiceVersion20100801", "/service/x/operation/ListMetrics", "/service/GraniteServiceVersion20100801/operation/Nope"} {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, nil)
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		if w := serve(req); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	for _, extra := range []url.Values{{}, {
		"LoadBalancerArn": {"x"}, "TargetGroupArn": {"x"}, "ListenerArn": {"x"}, "RuleArn": {"x"}, "TrustStoreArn": {"x"},
		"ResourceArns.member.1": {"x"}, "Names.member.1": {"x"}, "Targets.member.1.Id": {"x"}, "Actions.member.1.Type": {"forward"},
		"Conditions.member.1.Field": {"host-header"}, "DefaultActions.member.1.Type": {"redirect"}, "Attributes.member.1.Key": {"x"},
		"RulePriorities.member.1.Priority": {"1"}, "Tags.member.1.Key": {"k"}, "Protocol": {"HTTP"}, "Port": {"80"},
		"RoleName": {"r"}, "PolicyName": {"p"}, "PolicyArn": {"arn:aws:iam::000000000000:policy/p"}, "PolicyDocument": {"{}"},
		"AssumeRolePolicyDocument": {"{}"}, "InstanceProfileName": {"i"}, "VersionId": {"v1"}, "TagKeys.member.1": {"k"},
		"RoleArn": {"arn:aws:iam::000000000000:role/r"}, "RoleSessionName": {"s"}, "DurationSeconds": {"900"},
		"VpcId": {"vpc-x"}, "SubnetId": {"subnet-x"}, "GroupId": {"sg-x"}, "GroupName": {"g"}, "RouteTableId": {"rtb-x"},
		"InternetGatewayId": {"igw-x"}, "AssociationId": {"rtbassoc-x"}, "CidrBlock": {"10.0.0.0/16"}, "DestinationCidrBlock": {"0.0.0.0/0"},
		"ResourceId.1": {"vpc-x"}, "Filter.1.Name": {"vpc-id"}, "Filter.1.Value.1": {"x"}, "IpPermissions.1.IpProtocol": {"tcp"},
		"Attribute": {"enableDnsSupport"}, "GroupDescription": {"d"},
	}} {
		for _, svc := range s.query {
			for op := range svc.ops {
				form := url.Values{"Action": {op}, "Version": {svc.version}}
				for k, v := range extra {
					form[k] = v
				}
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if w := serve(req); w.Code >= 500 {
					t.Errorf("%s %s %v: %d %s", svc.name, op, extra, w.Code, w.Body)
				}
			}
		}
	}
}

// TestBodyLimit: a body over maxBody is RequestEntityTooLargeException,
// 413 (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html),
// whether its Content-Length says so up front or it is streamed without one.
func TestBodyLimit(t *testing.T) {
	ts := httptest.NewServer(newTestServer(t))
	defer ts.Close()
	big := strings.Repeat("a", maxBody+1)
	for _, c := range []struct {
		name    string
		body    io.Reader
		target  string
		chunked bool
	}{
		{"JSON", strings.NewReader(`{"clusterName":"` + big + `"}`), "AmazonEC2ContainerServiceV20141113.CreateCluster", false},
		{"JSON, chunked", io.MultiReader(strings.NewReader(`{"clusterName":"`), strings.NewReader(big)), "AmazonEC2ContainerServiceV20141113.CreateCluster", true},
		{"query", strings.NewReader("Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=" + big), "", false},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL, c.body)
		if c.chunked {
			req.ContentLength = -1
		}
		if c.target != "" {
			req.Header.Set("X-Amz-Target", c.target)
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "RequestEntityTooLargeException") {
			t.Errorf("%s: %d %.200s, want 413 RequestEntityTooLargeException", c.name, res.StatusCode, body)
		}
	}
}

// TestMalformedFormNamespace: a query request whose form cannot be read is
// answered in the ErrorResponse of the service it was signed for, here
// Auto Scaling's (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html),
// not ELBv2's.
func TestMalformedFormNamespace(t *testing.T) {
	s := newTestServer(t)
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader("Action=DescribeAutoScalingGroups&Version=2011-01-01&x=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/autoscaling/aws4_request, SignedHeaders=host, Signature=00")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"`) ||
		!strings.Contains(w.Body.String(), "<Type>Sender</Type>") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestQueryFormNotUTF8: a query parameter whose percent-encoded bytes are
// not UTF-8 is refused before any service reads it (SigV4's canonical
// request percent-encodes UTF-8, byte by byte:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
// as a JSON body that is not UTF-8 is; it is never stored with U+FFFD in
// place of its bytes.
func TestQueryFormNotUTF8(t *testing.T) {
	s := newTestServer(t)
	for _, body := range []string{
		"Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=a%FF%FEb",
		"Action=DescribeTargetGroups&Version=2015-12-01&Names.member.%FF=a",
	} {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=00")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "<Code>MalformedQueryString</Code>") {
			t.Errorf("%s: %d %s", body, w.Code, w.Body)
		}
	}
}
