package rpcv2cbor

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/middleware"

	"berth/awsproto"
)

// sdk is a CloudWatch client whose requests reach handler: the SDK's own
// CBOR serializer and deserializer are the other side of every test here.
func sdk(t *testing.T, handler http.HandlerFunc) *cloudwatch.Client {
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

func body(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, _ := gzip.NewReader(bytes.NewReader(b))
		b, _ = io.ReadAll(zr)
	}
	return b
}

func randomDatum(r *rand.Rand) types.MetricDatum {
	d := types.MetricDatum{MetricName: aws.String("m\u00e9tric"), Unit: types.StandardUnitBytes,
		Timestamp: aws.Time(time.UnixMilli(r.Int64N(4e12)).UTC())}
	for i := range r.IntN(4) {
		d.Dimensions = append(d.Dimensions, types.Dimension{Name: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	switch r.IntN(3) {
	case 0:
		d.Value = aws.Float64(r.NormFloat64() * 1e6)
	case 1:
		d.Values, d.Counts = []float64{r.Float64(), -r.Float64()}, []float64{1, 2}
	default:
		d.StatisticValues = &types.StatisticSet{SampleCount: aws.Float64(3), Sum: aws.Float64(r.Float64()), Minimum: aws.Float64(-1), Maximum: aws.Float64(1)}
		d.StorageResolution = aws.Int32(int32(r.IntN(2)*59 + 1))
	}
	return d
}

// TestDecodeWhatTheSDKSends decodes what aws-sdk-go-v2 serializes and
// gets the input back.
func TestDecodeWhatTheSDKSends(t *testing.T) {
	var got cloudwatch.PutMetricDataInput
	var decodeErr error
	c := sdk(t, func(w http.ResponseWriter, r *http.Request) {
		got = cloudwatch.PutMetricDataInput{}
		decodeErr = Decode(body(r), &got)
		WriteResponse(w, "req", &cloudwatch.PutMetricDataOutput{})
	})
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		in := cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), StrictEntityValidation: aws.Bool(r.IntN(2) == 0)}
		for range r.IntN(5) + 1 {
			in.MetricData = append(in.MetricData, randomDatum(r))
		}
		if _, err := c.PutMetricData(context.Background(), &in); err != nil {
			t.Fatal(err)
		}
		if decodeErr != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("decoded %+v (%v), want %+v", got, decodeErr, in)
		}
	}
}

// TestEncodeWhatTheSDKReads encodes outputs that the SDK's deserializer
// reads back equal.
func TestEncodeWhatTheSDKReads(t *testing.T) {
	var out *cloudwatch.GetMetricDataOutput
	c := sdk(t, func(w http.ResponseWriter, r *http.Request) { WriteResponse(w, "req", out) })
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		out = &cloudwatch.GetMetricDataOutput{Messages: []types.MessageData{{Code: aws.String("c"), Value: aws.String("v")}}}
		if r.IntN(2) == 0 {
			out.NextToken = aws.String("tok")
		}
		for i := range r.IntN(4) {
			res := types.MetricDataResult{Id: aws.String(string(rune('a' + i))), Label: aws.String("L"), StatusCode: types.StatusCodeComplete, Timestamps: []time.Time{}, Values: []float64{}}
			for range r.IntN(5) {
				res.Timestamps = append(res.Timestamps, time.UnixMilli(r.Int64N(4e12)).UTC())
				res.Values = append(res.Values, r.NormFloat64()*float64(r.IntN(1e6)))
			}
			out.MetricDataResults = append(out.MetricDataResults, res)
		}
		got, err := c.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(time.Unix(0, 0)), EndTime: aws.Time(time.Unix(1, 0)), MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("q"), Expression: aws.String("1")}}})
		if err != nil {
			t.Fatal(err)
		}
		got.ResultMetadata = middleware.Metadata{}
		for i := range got.MetricDataResults {
			for j := range got.MetricDataResults[i].Timestamps {
				got.MetricDataResults[i].Timestamps[j] = got.MetricDataResults[i].Timestamps[j].UTC()
			}
		}
		if !reflect.DeepEqual(got, out) {
			t.Fatalf("SDK read %+v, want %+v", got, out)
		}
	}
}

// TestErrorsReachTheSDKTyped writes an error the SDK parses as its modeled
// exception, with the query code of the X-Amzn-Query-Error header.
func TestErrorsReachTheSDKTyped(t *testing.T) {
	c := sdk(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Query-Error", "InvalidParameterValue;Sender")
		WriteError(w, "req", "InvalidParameterValueException", awsproto.ClientError("InvalidParameterValue", "bad value"))
	})
	_, err := c.ListMetrics(context.Background(), &cloudwatch.ListMetricsInput{})
	e, ok := err.(interface{ Unwrap() error })
	var typed *types.InvalidParameterValueException
	for ok && typed == nil {
		next := e.Unwrap()
		typed, _ = next.(*types.InvalidParameterValueException)
		e, ok = next.(interface{ Unwrap() error })
	}
	if typed == nil || typed.ErrorCode() != "InvalidParameterValue" || typed.ErrorMessage() != "bad value" {
		t.Fatalf("got %v", err)
	}
}

// FuzzDecode feeds Decode arbitrary bytes: it never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xbf, 0x69, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e', 0x61, 'x', 0xff})
	f.Add([]byte{0xa1, 0x6a, 'M', 'e', 't', 'r', 'i', 'c', 'D', 'a', 't', 'a', 0x9f, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var in cloudwatch.PutMetricDataInput
		Decode(b, &in)
	})
}
