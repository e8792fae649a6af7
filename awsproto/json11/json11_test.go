package json11

import (
	"bytes"
	"encoding/json"
	"errors"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"math"
	"math/big"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/document"

	"berth/awsproto"
)

func TestDecode(t *testing.T) {
	var in ecs.RegisterTaskDefinitionInput
	body := `{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128,"essential":false,
		"portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}],"dockerLabels":{"a":"b"}}],
		"networkMode":"bridge","unknownField":1}`
	if err := (Codec{}).Decode([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	c := in.ContainerDefinitions[0]
	if *in.Family != "web" || in.NetworkMode != types.NetworkModeBridge || *c.Memory != 128 || *c.Essential ||
		*c.PortMappings[0].HostPort != 0 || c.DockerLabels["a"] != "b" {
		t.Fatalf("decoded %+v", in)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, body := range []string{
		`{`, `[]`, `"x"`, `{"family":1}`, `{"containerDefinitions":{}}`, `{"cpu":true}`,
		`{"containerDefinitions":[{"memory":"x"}]}`, `{"containerDefinitions":[{"memory":99999999999}]}`, `{} {}`,
		"{\"family\":\"web\xff\"}", // not UTF-8 (RFC 8259 section 8.1)
	} {
		var in ecs.RegisterTaskDefinitionInput
		err := Codec{}.Decode([]byte(body), &in)
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != "SerializationException" || ae.Status != 400 {
			t.Errorf("Decode(%s) = %v, want SerializationException", body, err)
		}
	}
}

func TestEncode(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &types.TaskDefinition{
		Family: aws.String("web"), Revision: 3, RegisteredAt: &at, Volumes: []types.Volume{},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), DockerLabels: map[string]string{"z": "1", "a": "2"}}},
	}}
	var buf bytes.Buffer
	Codec{}.Encode(&buf, out)
	want := `{"taskDefinition":{"containerDefinitions":[{"cpu":0,"dockerLabels":{"a":"2","z":"1"},"name":"a"}],"family":"web","registeredAt":1767323045.678,"revision":3,"volumes":[]}}`
	if buf.String() != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", buf.String(), want)
	}
	// What berth writes, the SDK's own deserializer reads back.
	var back ecs.DescribeTaskDefinitionOutput
	if err := (Codec{}).Decode(buf.Bytes(), &back); err != nil || !back.TaskDefinition.RegisteredAt.Equal(at) {
		t.Fatalf("round trip: %v %v", back.TaskDefinition, err)
	}
}

// recorder is a smithy.ShapeSerializer that records the member names the
// SDK's schema-driven Serialize methods write.
type recorder struct{ names map[string]bool }

func (r *recorder) member(s *smithy.Schema) {
	if s != nil && s.MemberName() != "" {
		r.names[s.MemberName()] = true
	}
}
func (r *recorder) Bytes() []byte                                { return nil }
func (r *recorder) WriteInt8(s *smithy.Schema, _ int8)           { r.member(s) }
func (r *recorder) WriteInt16(s *smithy.Schema, _ int16)         { r.member(s) }
func (r *recorder) WriteInt32(s *smithy.Schema, _ int32)         { r.member(s) }
func (r *recorder) WriteInt64(s *smithy.Schema, _ int64)         { r.member(s) }
func (r *recorder) WriteFloat32(s *smithy.Schema, _ float32)     { r.member(s) }
func (r *recorder) WriteFloat64(s *smithy.Schema, _ float64)     { r.member(s) }
func (r *recorder) WriteBool(s *smithy.Schema, _ bool)           { r.member(s) }
func (r *recorder) WriteString(s *smithy.Schema, _ string)       { r.member(s) }
func (r *recorder) WriteBigInt(s *smithy.Schema, _ *big.Int)     { r.member(s) }
func (r *recorder) WriteBigFloat(s *smithy.Schema, _ *big.Float) { r.member(s) }
func (r *recorder) WriteBlob(s *smithy.Schema, _ []byte)         { r.member(s) }
func (r *recorder) WriteTime(s *smithy.Schema, _ time.Time)      { r.member(s) }
func (r *recorder) WriteUnion(s, _ *smithy.Schema)               { r.member(s) }
func (r *recorder) CloseUnion()                                  {}
func (r *recorder) WriteDocument(s *smithy.Schema, _ document.Value) {
	r.member(s)
}
func (r *recorder) WriteNil(s *smithy.Schema)           { r.member(s) }
func (r *recorder) WriteStruct(s *smithy.Schema)        { r.member(s) }
func (r *recorder) CloseStruct()                        {}
func (r *recorder) WriteList(s *smithy.Schema)          { r.member(s) }
func (r *recorder) CloseList()                          {}
func (r *recorder) WriteMap(s *smithy.Schema)           { r.member(s) }
func (r *recorder) WriteKey(s *smithy.Schema, _ string) {}
func (r *recorder) CloseMap()                           {}

// fill sets every member of v, recursively, to a non-zero value.
func fill(v reflect.Value, depth int) {
	if depth > 24 {
		return
	}
	t := v.Type()
	switch {
	case t == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(1, 0)))
		return
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
		return
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(t)
		e := reflect.New(t.Elem()).Elem()
		fill(e, depth+1)
		m.SetMapIndex(reflect.ValueOf("mapkey").Convert(t.Key()), e)
		v.Set(m)
	case reflect.Struct:
		for _, f := range awsproto.Fields(t) {
			fill(v.Field(f.Index), depth+1)
		}
	}
}

// keys collects every object key in a decoded JSON document.
func keys(doc any, into map[string]bool) {
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			if k != "mapkey" {
				into[k] = true
			}
			keys(v, into)
		}
	case []any:
		for _, v := range d {
			keys(v, into)
		}
	}
}

// TestNamesMatchSDKSchemas checks the naming rules (JSON member = Go field
// with its first letter lowered for ECS, as is for ACM) against the member
// names in the SDK's schemas, for the output of every operation.
func TestNamesMatchSDKSchemas(t *testing.T) {
	for _, svc := range []struct {
		client reflect.Type
		codec  Codec
		least  int
	}{{reflect.TypeFor[*ecs.Client](), Codec{}, 50}, {reflect.TypeFor[*acm.Client](), Codec{KeepCase: true}, 10},
		{reflect.TypeFor[*secretsmanager.Client](), Codec{KeepCase: true}, 20}} {
		t.Run(svc.client.Elem().PkgPath(), func(t *testing.T) { checkNames(t, svc.client, svc.codec, svc.least) })
	}
}

func checkNames(t *testing.T, ct reflect.Type, codec Codec, least int) {
	checked := 0
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		if m.Type.NumOut() != 2 || m.Type.Out(0).Kind() != reflect.Pointer || !strings.HasSuffix(m.Type.Out(0).Elem().Name(), "Output") {
			continue
		}
		out := reflect.New(m.Type.Out(0).Elem())
		fill(out.Elem(), 0)
		ser, ok := out.Interface().(interface{ Serialize(smithy.ShapeSerializer) })
		if !ok {
			continue
		}
		rec := &recorder{names: map[string]bool{}}
		ser.Serialize(rec)
		var buf bytes.Buffer
		codec.Encode(&buf, out.Interface())
		var doc any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		ours := map[string]bool{}
		keys(doc, ours)
		for name := range ours {
			if !rec.names[name] {
				t.Errorf("%s: berth writes member %q, which the SDK schema does not have", m.Name, name)
			}
		}
		for name := range rec.names {
			if !ours[name] && name != "member" && name != "key" && name != "value" {
				t.Errorf("%s: the SDK schema has member %q, which berth does not write", m.Name, name)
			}
		}
		checked++
	}
	if checked < least {
		t.Fatalf("checked only %d operations", checked)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"family":"web","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
		`{"cluster":"c","serviceName":"s","desiredCount":2,"loadBalancers":[{"targetGroupArn":"a","containerName":"c","containerPort":80}]}`,
		`{"createdAt":{"before":1.5e9}}`, `[`, `{"a":`, `null`, `{"desiredCount":1e99}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&ecs.RegisterTaskDefinitionInput{}, &ecs.CreateServiceInput{}, &ecs.ListServiceDeploymentsInput{}} {
			err := Codec{}.Decode(body, v)
			var ae *awsproto.Error
			if err != nil && !errors.As(err, &ae) {
				t.Fatalf("Decode returned %T %v, want *awsproto.Error", err, err)
			}
		}
	})
}

// TestWriteString checks the hand-written string escaper against
// encoding/json, whose output the SDKs are known to parse.
func TestWriteString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a&b>", "tab\tnl\ncr\r", "\x00\x1f", "é 日本", "bad\xffutf8", "\u2028\u2029", "end\\"} {
		var buf bytes.Buffer
		writeString(&buf, s)
		want, _ := json.Marshal(s)
		if buf.String() != string(want) {
			t.Errorf("writeString(%q) = %s, want %s", s, buf.String(), want)
		}
	}
}

// TestEncodeNonFinite: doubles that are not finite are written as the
// strings the Smithy JSON protocols use, which the SDKs read back, rather
// than as +Inf, which no JSON parser takes (the hostile review broke
// boto3 with a GetMetricData whose values overflowed).
// https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
func TestEncodeNonFinite(t *testing.T) {
	var buf bytes.Buffer
	Codec{KeepCase: true, JSON10: true}.Encode(&buf, &cwtypes.MetricDataResult{Values: []float64{math.Inf(1), math.Inf(-1), math.NaN(), 1.5}})
	if got, want := buf.String(), `{"Values":["Infinity","-Infinity","NaN",1.5]}`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
}

// TestWriteErrorFields: an exception's members beside its message go in
// the body beside __type, by their wire names, as the SDKs' error
// deserializers read them (Cloud Map's NamespaceAlreadyExists:
// "NamespaceId", https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html).
func TestWriteErrorFields(t *testing.T) {
	w := httptest.NewRecorder()
	e := awsproto.ClientError("NamespaceAlreadyExists", "exists").With("NamespaceId", "ns-1").With("CreatorRequestId", "")
	Codec{KeepCase: true}.WriteError(w, "req", e)
	if got, want := w.Body.String(), `{"__type":"NamespaceAlreadyExists","message":"exists","NamespaceId":"ns-1"}`; got != want {
		t.Fatalf("WriteError = %s, want %s", got, want)
	}
}
