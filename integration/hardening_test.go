package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// rawCall sends one request by hand, as a web page or a hostile client
// would, and returns the response with its body read.
func rawCall(t *testing.T, method, url string, header map[string]string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wantAnswer checks a response's status and that its body has each of
// parts.
func wantAnswer(t *testing.T, what string, resp *http.Response, body string, status int, parts ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %s", what, resp.StatusCode, status, body)
	}
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: body %q lacks %q", what, body, p)
		}
	}
}

const (
	jsonECS  = "AmazonEC2ContainerServiceV20141113."
	ecsJSON  = "application/x-amz-json-1.1"
	formType = "application/x-www-form-urlencoded"
	// cborPath is CloudWatch's RPC v2 CBOR path
	// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
	cborPath = "/service/GraniteServiceVersion20100801/operation/"
	// ec2Errors is the start of EC2's error envelope, which its SDKs parse
	// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
	ec2Errors = "<Response><Errors><Error><Code>"
)

func ecsCall(op string) map[string]string {
	return map[string]string{"X-Amz-Target": jsonECS + op, "Content-Type": ecsJSON}
}

func cborCall() map[string]string {
	return map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
}

// highWater is the peak resident memory of the berth process, in bytes.
func highWater(t *testing.T, b *berth) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestHardeningDecodeBounds: bodies within the 16 MiB limit whose shapes
// once decoded to gigabytes (a CBOR list of 16M empty maps, a JSON list of
// 5.6M empty objects, a query key of 8M segments, 8M numbers under a
// member the input does not have) are answered without berth's memory
// growing past a few times the body.
func TestHardeningDecodeBounds(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	const size = 16<<20 - 1024
	fill := func(prefix, item, sep, suffix string) []byte {
		n := (size - len(prefix) - len(suffix)) / (len(item) + len(sep))
		var buf bytes.Buffer
		buf.WriteString(prefix)
		for i := range n {
			if i > 0 {
				buf.WriteString(sep)
			}
			buf.WriteString(item)
		}
		buf.WriteString(suffix)
		return buf.Bytes()
	}
	tstr := func(s string) []byte { return append([]byte{0x60 + byte(len(s))}, s...) }
	cborBody := bytes.Join([][]byte{{0xa2}, tstr("Namespace"), tstr("n"), tstr("MetricData"), {0x9f}, bytes.Repeat([]byte{0xa0}, size), {0xff}}, nil)
	for _, c := range []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		status             int
		parts              []string
	}{
		{"unknown member", "POST", "/", ecsCall("ListClusters"), fill(`{"x":[`, "0", ",", `]}`), 200, []string{`"clusterArns"`}},
		{"query key", "POST", "/", map[string]string{"Content-Type": formType},
			fill("Action=DescribeLoadBalancers&Version=2015-12-01&", "a", ".", "=1"), 400, []string{"<Code>MalformedQueryString</Code>"}},
		{"JSON list", "POST", "/", ecsCall("RegisterTaskDefinition"), fill(`{"family":"f","containerDefinitions":[`, "{}", ",", `]}`),
			400, []string{"SerializationException"}},
		{"CBOR list", "POST", cborPath + "PutMetricData", cborCall(), cborBody, 400, []string{"SerializationException"}},
	} {
		resp, body := rawCall(t, c.method, b.url+c.path, c.header, c.body)
		wantAnswer(t, c.name, resp, body, c.status, c.parts...)
		// Before the bounds these peaked at 0.8, 2.4, 3.9 and 4.5 GB.
		if hw := highWater(t, b); hw > 512<<20 {
			t.Errorf("%s: berth's peak memory is %d MiB", c.name, hw>>20)
		}
	}
}

// TestHardeningErrorFormat: errors found before the operation (a missing
// or expired signature, a body too large, a malformed gzip body) come in
// the format and namespace of the service called, found from the
// credential scope or the Version parameter, so that its SDK parses them
// (EC2's retries on RequestExpired, for clock skew).
func TestHardeningErrorFormat(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--verify-signatures", "--secrets", "AKIDGOOD=right")
	signed := func(service string) map[string]string {
		return map[string]string{
			"Content-Type":  formType,
			"X-Amz-Date":    "20200101T000000Z",
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDGOOD/20200101/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		}
	}
	describeVpcs := []byte("Action=DescribeVpcs&Version=2016-11-15")
	resp, body := rawCall(t, "POST", b.url+"/", map[string]string{"Content-Type": formType}, describeVpcs)
	wantAnswer(t, "unsigned EC2", resp, body, 403, ec2Errors+"MissingAuthenticationToken</Code>")
	// RequestExpired, 400 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
	resp, body = rawCall(t, "POST", b.url+"/", signed("ec2"), describeVpcs)
	wantAnswer(t, "expired EC2", resp, body, 400, ec2Errors+"RequestExpired</Code>")
	resp, body = rawCall(t, "GET", b.url+"/?Action=ListUsers&Version=2010-05-08", nil, nil)
	wantAnswer(t, "unsigned IAM", resp, body, 403, `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`, "<Code>MissingAuthenticationToken</Code>")
	resp, body = rawCall(t, "POST", b.url+"/", signed("iam"), []byte("Action=ListUsers&Version=2010-05-08"))
	wantAnswer(t, "expired IAM", resp, body, 400, `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`, "<Code>RequestExpired</Code>")

	// A body over 16 MiB, announced, to STS: 413 in STS's namespace.
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := signed("sts")
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n",
		h["Content-Type"], h["X-Amz-Date"], h["Authorization"], 20<<20)
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	tooLarge, _ := io.ReadAll(resp.Body)
	wantAnswer(t, "large STS", resp, string(tooLarge), 413, `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`, "<Code>RequestEntityTooLargeException</Code>")

	// A gzip body that is not gzip, to CloudWatch's query protocol.
	h = signed("monitoring")
	h["Content-Encoding"] = "gzip"
	resp, body = rawCall(t, "POST", b.url+"/", h, []byte("Action=ListMetrics&Version=2010-08-01"))
	wantAnswer(t, "bad gzip CloudWatch", resp, body, 400, `xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"`, "<Code>SerializationException</Code>")
	// A malformed form, unsigned, names EC2 in its URL.
	resp, body = rawCall(t, "POST", b.url+"/?Version=2016-11-15", map[string]string{"Content-Type": formType}, []byte("Action=%zz"))
	wantAnswer(t, "bad form EC2", resp, body, 403, ec2Errors)

	// CloudWatch in AWS JSON 1.0 and in CBOR: its own content type and
	// the query code in X-Amzn-Query-Error
	// (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait).
	resp, body = rawCall(t, "POST", b.url+"/", map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics", "Content-Type": "application/x-amz-json-1.0"}, []byte("{}"))
	wantAnswer(t, "unsigned CloudWatch JSON", resp, body, 403, "MissingAuthenticationTokenException")
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" || resp.Header.Get("X-Amzn-Query-Error") == "" {
		t.Errorf("unsigned CloudWatch JSON: Content-Type %q, X-Amzn-Query-Error %q", ct, resp.Header.Get("X-Amzn-Query-Error"))
	}
	resp, body = rawCall(t, "POST", b.url+cborPath+"ListMetrics", cborCall(), cbor.Encode(cbor.Map{}))
	wantAnswer(t, "unsigned CloudWatch CBOR", resp, body, 403, "MissingAuthenticationTokenException")
	if resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || resp.Header.Get("X-Amzn-Query-Error") == "" {
		t.Errorf("unsigned CloudWatch CBOR: headers %v", resp.Header)
	}
}

// TestHardeningCrossSite: what a browser sends for a page of another site
// (Fetch metadata, https://www.w3.org/TR/fetch-metadata/, or an Origin of
// another host) is refused, whatever the protocol; the SDKs send neither.
func TestHardeningCrossSite(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	host := strings.TrimPrefix(b.url, "http://")
	resp, body := rawCall(t, "POST", b.url+"/", ecsCall("CreateCluster"), []byte(`{"clusterName":"kept"}`))
	wantAnswer(t, "SDK-like call", resp, body, 200, "kept")

	for _, c := range []struct {
		name, method, path string
		header             map[string]string
		body               string
		parts              []string
	}{
		{"form post", "POST", "/", map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"},
			"Action=CreateTargetGroup&Version=2015-12-01&Name=evil&Protocol=HTTP&Port=80&VpcId=vpc-1",
			[]string{`xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"`, "<Code>AccessDenied</Code>"}},
		{"EC2 GET", "GET", "/?Action=CreateVpc&Version=2016-11-15&CidrBlock=10.9.0.0/16", map[string]string{"Origin": "http://evil.example"}, "",
			[]string{ec2Errors + "AccessDenied</Code>"}},
		{"JSON same-site", "POST", "/", map[string]string{"X-Amz-Target": jsonECS + "CreateCluster", "Content-Type": "text/plain", "Sec-Fetch-Site": "same-site"},
			`{"clusterName":"evil"}`, []string{"AccessDeniedException"}},
		{"JSON null origin", "POST", "/", map[string]string{"X-Amz-Target": jsonECS + "CreateCluster", "Origin": "null"},
			`{"clusterName":"evil"}`, []string{"AccessDeniedException"}},
		{"CBOR", "POST", cborPath + "ListMetrics", map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Origin": "http://127.0.0.1:1"}, "\xa0",
			[]string{"AccessDeniedException"}},
		{"reset", "POST", "/_berth/reset", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", nil},
		{"moto reset", "POST", "/moto-api/reset", map[string]string{"Origin": "http://evil.example"}, "", nil},
	} {
		resp, body := rawCall(t, c.method, b.url+c.path, c.header, []byte(c.body))
		wantAnswer(t, c.name, resp, body, 403, c.parts...)
	}
	resp, body = rawCall(t, "GET", b.url+"/_berth/reset", nil, nil)
	wantAnswer(t, "reset by GET", resp, body, 405)
	resp, body = rawCall(t, "POST", b.url+"/", ecsCall("ListClusters"), []byte(`{}`))
	wantAnswer(t, "after", resp, body, 200, "cluster/kept")
	if strings.Contains(body, "evil") {
		t.Errorf("a refused call created a cluster: %s", body)
	}
	// Requests a browser makes of berth's own origin, or from its address
	// bar, are served.
	for name, h := range map[string]map[string]string{
		"same origin": {"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"},
		"typed URL":   {"Sec-Fetch-Site": "none"},
	} {
		resp, body := rawCall(t, "GET", b.url+"/?Action=DescribeVpcs&Version=2016-11-15", h, nil)
		wantAnswer(t, name, resp, body, 200, "<DescribeVpcsResponse")
	}
	resp, body = rawCall(t, "GET", b.url+"/_berth/health", map[string]string{"Sec-Fetch-Site": "none"}, nil)
	wantAnswer(t, "health", resp, body, 200, `"status":"ok"`)
}

// TestHardeningJSONMethodPath: AWS JSON requests are POST /
// (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html), RPC
// v2 CBOR ones POST /service/{service}/operation/{operation}
// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
func TestHardeningJSONMethodPath(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	for _, c := range []struct {
		method, path string
		header       map[string]string
		status       int
	}{
		{"GET", "/", ecsCall("ListClusters"), 405},
		{"PUT", "/", ecsCall("ListClusters"), 405},
		{"DELETE", "/", ecsCall("DeleteCluster"), 405},
		{"POST", "/other", ecsCall("ListClusters"), 404},
		{"GET", cborPath + "ListMetrics", cborCall(), 405},
		{"POST", "/service/GraniteServiceVersion20100801/ListMetrics", cborCall(), 404},
	} {
		resp, body := rawCall(t, c.method, b.url+c.path, c.header, []byte("{}"))
		wantAnswer(t, c.method+" "+c.path, resp, body, c.status, "UnknownOperationException")
	}
	resp, body := rawCall(t, "POST", b.url+"/", ecsCall("ListClusters"), []byte("{}"))
	wantAnswer(t, "POST /", resp, body, 200, "clusterArns")
}

// TestHardeningSlowBody: a body trickled in a byte a second is cut off
// (the API reads a request within 60 seconds) instead of holding its
// connection for as long as the client likes.
func TestHardeningSlowBody(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const length = 300 // bytes, one a second: far past the read timeout
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %sListClusters\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", jsonECS, ecsJSON, length)
	answered := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(conn)
		answered <- string(data)
	}()
	for i := range length {
		select {
		case data := <-answered:
			if i >= length-1 {
				t.Fatalf("answered only after the whole body: %q", data)
			}
			return
		case <-time.After(time.Second):
			if _, err := conn.Write([]byte(" ")); err != nil {
				return // closed by berth
			}
		}
	}
	t.Fatal("berth read a 300-second body to its end")
}

// TestHardeningStrictEncoding: a JSON string with a lone UTF-16 surrogate
// names no character (RFC 8259 section 7), CBOR text must be UTF-8 and a
// CBOR body one data item (RFC 8949 sections 3.1 and 5.3): all are
// SerializationException, never stored as something the client did not
// send.
func TestHardeningStrictEncoding(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	resp, body := rawCall(t, "POST", b.url+"/", ecsCall("CreateCluster"), []byte(`{"clusterName":"x\ud800y"}`))
	wantAnswer(t, "lone surrogate", resp, body, 400, "SerializationException")
	resp, body = rawCall(t, "POST", b.url+"/", ecsCall("ListClusters"), []byte(`{}`))
	if strings.Contains(body, "cluster/x") {
		t.Errorf("a cluster was created: %s", body)
	}
	ns := append([]byte{0x69}, "Namespace"...)
	for name, cb := range map[string][]byte{
		"text not UTF-8": append(append([]byte{0xa1}, ns...), 0x62, 0xc3, 0x28),
		"trailing bytes": append(append([]byte{0xa1}, ns...), 0x61, 'n', 0x00),
		"map of 2^64-1":  {0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		resp, body := rawCall(t, "POST", b.url+cborPath+"ListMetrics", cborCall(), cb)
		wantAnswer(t, name, resp, body, 400, "SerializationException")
	}
	// A pair is one character, kept as sent.
	resp, body = rawCall(t, "POST", b.url+"/", ecsCall("CreateCluster"), []byte(`{"clusterName":"pair","tags":[{"key":"k","value":"\ud835\udc9c"}]}`))
	wantAnswer(t, "surrogate pair", resp, body, 200, "\U0001D49C") // 𝒜, a letter outside the BMP
}

// TestHardeningRegion: the region of a credential scope goes into ARNs;
// one that is no region's name is refused as AWS refuses it: "Credential
// should be scoped to a valid region", SignatureDoesNotMatch
// (https://github.com/versity/versitygw/issues/192) or, in JSON services,
// InvalidSignatureException (https://github.com/aws/aws-sdk-js-v3/issues/5576), 403.
func TestHardeningRegion(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none")
	auth := func(region, service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKID/20260101/" + region + "/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	}
	h := ecsCall("CreateCluster")
	h["Authorization"] = auth("ap-south-99:x", "ecs")
	resp, body := rawCall(t, "POST", b.url+"/", h, []byte(`{"clusterName":"c"}`))
	wantAnswer(t, "colon", resp, body, 403, "InvalidSignatureException", "valid region")
	resp, body = rawCall(t, "POST", b.url+"/", map[string]string{"Content-Type": formType, "Authorization": auth("..", "elasticloadbalancing")},
		[]byte("Action=DescribeLoadBalancers&Version=2015-12-01"))
	wantAnswer(t, "dots", resp, body, 403, "<Code>SignatureDoesNotMatch</Code>", `xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"`)
	h["Authorization"] = auth("eu-test-7", "ecs")
	resp, body = rawCall(t, "POST", b.url+"/", h, []byte(`{"clusterName":"c"}`))
	wantAnswer(t, "valid", resp, body, 200, "arn:aws:ecs:eu-test-7:")
}

// TestHardeningLargeLegitimateQuery: the bounds leave room for what AWS
// takes. A query-protocol PutMetricData of 1,000 metrics with four
// dimensions each sends 12,003 parameters in about 550 KB, within the 1 MB
// and 1,000 metrics PutMetricData takes
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html);
// the hostile review saw it refused at net/url's default of 10,000.
func TestHardeningLargeLegitimateQuery(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--lb-network", "none")
	form := url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"Load"}}
	for i := 1; i <= 1000; i++ {
		m := fmt.Sprintf("MetricData.member.%d.", i)
		form.Set(m+"MetricName", fmt.Sprint("m", i))
		form.Set(m+"Value", "1")
		form.Set(m+"Unit", "Count")
		form.Set(m+"StorageResolution", "60")
		for d := 1; d <= 4; d++ {
			form.Set(fmt.Sprintf("%sDimensions.member.%d.Name", m, d), fmt.Sprint("d", d))
			form.Set(fmt.Sprintf("%sDimensions.member.%d.Value", m, d), "v")
		}
	}
	if n := len(form); n != 12003 {
		t.Fatalf("%d parameters", n)
	}
	resp, body := rawCall(t, "POST", b.url+"/", map[string]string{"Content-Type": formType,
		"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"}, []byte(form.Encode()))
	wantAnswer(t, "PutMetricData of 12,003 parameters", resp, body, 200, "PutMetricDataResponse")
}
