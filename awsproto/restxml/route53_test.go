package restxml

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"berth/awsproto"
)

// captured is one request the SDK sent.
type captured struct {
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
}

// route53Capture is a Route 53 client whose requests are recorded in
// memory and answered with an error, which the test ignores: no socket,
// so that the fuzzer's executions measure the SDK and the decoder.
func route53Capture(t testing.TB) (*route53.Client, func() captured) {
	t.Helper()
	c := &capture{}
	client := route53.New(route53.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://route53.test"),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
		HTTPClient:       c,
	})
	return client, func() captured { return c.last }
}

// capture is an HTTP client that records the last request it was given
// and answers it 418.
type capture struct{ last captured }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	c.last = captured{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body}
	return &http.Response{StatusCode: http.StatusTeapot, Status: "418 I'm a teapot", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// fill sets every member of v to a random value: strings of characters
// XML and URIs must escape, numbers, flags, and lists of one to three items.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	const alphabet = "abcXYZ019 -_./*\\<>&\"'=?%+é世"
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		fill(r, p.Elem(), depth)
		v.Set(p)
	case awsproto.IsTime(t):
	case t.Kind() == reflect.Struct:
		for _, f := range awsproto.Fields(t) {
			if depth > 4 && f.Type.Kind() != reflect.String {
				continue
			}
			fill(r, v.Field(f.Index), depth+1)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		n := 1 + r.IntN(3)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case t.Kind() == reflect.String:
		runes := []rune(alphabet)
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		// Route 53's SDK trims the /hostedzone/ style prefix of ids; a
		// leading letter keeps random ones clear of it.
		v.SetString("k" + b.String())
	case t.Kind() == reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		v.SetInt(r.Int64N(1 << 30))
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		v.SetFloat(float64(r.IntN(100000)) / 8)
	}
}

// operations are the Route 53 client's operation methods.
func operations(ct reflect.Type) []reflect.Method {
	var ms []reflect.Method
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Kind() == reflect.Struct {
			ms = append(ms, m)
		}
	}
	return ms
}

// roundTrip sends a random input of operation m, drawn from r, through
// the SDK's serializer and decodes what it sent; it reports false when
// the SDK refused the input before sending it.
func roundTrip(t *testing.T, client *route53.Client, last func() captured, bindings *Service, m reflect.Method, r *rand.Rand) bool {
	t.Helper()
	in := reflect.New(m.Type.In(2).Elem())
	fill(r, in.Elem(), 0)
	res := m.Func.Call([]reflect.Value{reflect.ValueOf(client), reflect.ValueOf(context.Background()), in})
	var opErr interface{ HTTPStatusCode() int }
	if err, _ := res[1].Interface().(error); err == nil || !errors.As(err, &opErr) {
		return false // the SDK refused the input before sending it
	}
	req := last()
	op, labels, found, _ := bindings.Match(req.method, req.path)
	if !found || op.Name != m.Name {
		t.Fatalf("%s: %s %s matched %v", m.Name, req.method, req.path, op)
	}
	query, err := url.ParseQuery(req.rawQuery)
	if err != nil {
		t.Fatalf("%s: query %q: %v", m.Name, req.rawQuery, err)
	}
	got := reflect.New(in.Elem().Type())
	if err := Decode(Request{Op: op, Labels: labels, Query: query, Header: req.header, Body: req.body, Invalid: "InvalidInput"}, got.Interface()); err != nil {
		t.Fatalf("%s: decode %s: %v", m.Name, req.body, err)
	}
	if !reflect.DeepEqual(got.Interface(), in.Interface()) {
		t.Fatalf("%s: decoded\n%#v\nsent\n%#v\nbody %s query %s", m.Name, got.Elem().Interface(), in.Elem().Interface(), req.body, req.rawQuery)
	}
	return true
}

// TestRoute53DecodeEveryOperation decodes a random input of every Route 53
// operation as aws-sdk-go-v2 serialises it.
func TestRoute53DecodeEveryOperation(t *testing.T) {
	client, last := route53Capture(t)
	bindings := Route53()
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for _, m := range operations(reflect.TypeOf(client)) {
		if roundTrip(t, client, last, bindings, m, r) {
			checked++
		}
	}
	// Most operations' inputs go through; a few the SDK refuses
	// (members it validates, such as enums of ids it trims).
	if checked < 40 {
		t.Fatalf("only %d operations were checked", checked)
	}
}

// FuzzRoute53Decode is a differential test of the REST-XML decoder: a
// random input of a Route 53 operation (the seed picks which), serialised
// by aws-sdk-go-v2's own serializer, must decode to the same struct.
func FuzzRoute53Decode(f *testing.F) {
	client, last := route53Capture(f)
	bindings := Route53()
	ops := operations(reflect.TypeOf(client))
	for seed := range uint64(len(ops)) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		roundTrip(t, client, last, bindings, ops[seed%uint64(len(ops))], rand.New(rand.NewPCG(seed, seed^0x5eed)))
	})
}
