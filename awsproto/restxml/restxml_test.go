package restxml

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"berth/awsproto"
)

// svc is a small service of Route 53's shapes
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html).
var svc = &Service{
	Namespace: "https://route53.amazonaws.com/doc/2013-04-01/",
	Operations: []Operation{
		{Name: "ListThings", Method: "GET", Path: "/2013-04-01/hostedzone/{Id}/rrset", Status: 200,
			Input: map[string]Location{"ZoneId": {In: "uri", Name: "Id"}, "Max": {In: "querystring", Name: "maxitems"}, "Start": {In: "querystring", Name: "name"}}},
		{Name: "ChangeThings", Method: "POST", Path: "/2013-04-01/hostedzone/{Id}/rrset/", Status: 200, BodyRoot: "ChangeThingsRequest",
			Input: map[string]Location{"ZoneId": {In: "uri", Name: "Id"}}},
		{Name: "CreateThing", Method: "POST", Path: "/2013-04-01/hostedzone", Status: 201, BodyRoot: "CreateThingRequest",
			Output: map[string]Location{"Location": {In: "header", Name: "Location"}}},
		{Name: "Count", Method: "GET", Path: "/2013-04-01/hostedzonecount", Status: 200},
	},
	Items:  map[string]string{"thingOut.Things": "Thing", "thing.Values": "Value"},
	Errors: map[string]int{"NoSuchThing": 404},
}

type thing struct {
	Name   *string
	TTL    *int64
	On     bool
	Values []string
	At     *time.Time
}

type changeIn struct {
	ZoneId *string
	Things []thing
	Note   *string
}

type listIn struct {
	ZoneId *string
	Max    *int32
	Start  *string
}

type thingOut struct {
	Location *string
	Things   []thing
	Count    int64
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		method, path, op string
		labels           string
		allowed          bool
	}{
		{"GET", "/2013-04-01/hostedzone/Z123/rrset", "ListThings", "Z123", false},
		{"POST", "/2013-04-01/hostedzone/Z123/rrset/", "ChangeThings", "Z123", false},
		{"POST", "/2013-04-01/hostedzone/Z%2F1/rrset", "ChangeThings", "Z/1", false},
		{"GET", "/2013-04-01/hostedzonecount", "Count", "", false},
		{"DELETE", "/2013-04-01/hostedzone/Z123/rrset", "", "", true},
		{"GET", "/2013-04-01/hostedzone/Z123/nope", "", "", false},
		{"GET", "/2013-04-01/hostedzone//rrset", "", "", false},
	} {
		op, labels, found, allowed := svc.Match(c.method, c.path)
		name := ""
		if found {
			name = op.Name
		}
		if name != c.op || labels["Id"] != c.labels || allowed != c.allowed {
			t.Errorf("Match(%s %s) = %s %v %v, want %s %s %v", c.method, c.path, name, labels, allowed, c.op, c.labels, c.allowed)
		}
	}
}

func TestDecode(t *testing.T) {
	op, labels, _, _ := svc.Match("POST", "/2013-04-01/hostedzone/Z9/rrset/")
	body := `<?xml version="1.0" encoding="UTF-8"?>
<ChangeThingsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <Things><Thing><Name>a&amp;b</Name><TTL>300</TTL><On>true</On><Values><Value>x</Value><Value>y</Value></Values>
  <At>2026-01-02T03:04:05Z</At><Unknown><Deep>1</Deep></Unknown></Thing></Things>
  <Note>n</Note><ZoneId>ignored: bound to the URI</ZoneId>
</ChangeThingsRequest>`
	var in changeIn
	if err := Decode(Request{Op: op, Labels: labels, Body: []byte(body), Invalid: "InvalidInput"}, &in); err != nil {
		t.Fatal(err)
	}
	th := in.Things[0]
	if *in.ZoneId != "Z9" || *in.Note != "n" || len(in.Things) != 1 || *th.Name != "a&b" || *th.TTL != 300 || !th.On ||
		strings.Join(th.Values, ",") != "x,y" || !th.At.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("decoded %+v %+v", in, th)
	}

	list, labels, _, _ := svc.Match("GET", "/2013-04-01/hostedzone/Z9/rrset")
	var li listIn
	q, _ := url.ParseQuery("maxitems=5&name=www.example.com.")
	if err := Decode(Request{Op: list, Labels: labels, Query: q, Invalid: "InvalidInput"}, &li); err != nil || *li.Max != 5 || *li.Start != "www.example.com." {
		t.Fatalf("query: %+v %v", li, err)
	}
	q, _ = url.ParseQuery("maxitems=five")
	if err := Decode(Request{Op: list, Labels: labels, Query: q, Invalid: "InvalidInput"}, &li); code(err) != "InvalidInput" {
		t.Fatalf("a bad number: %v", err)
	}
}

func code(err error) string {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae.Code
	}
	return ""
}

// TestDecodeBounds: malformed XML, nesting past MaxDepth (even in
// elements skipped) and lists past MaxItems are the service's input
// error, not a crash or an unbounded decode.
func TestDecodeBounds(t *testing.T) {
	op, labels, _, _ := svc.Match("POST", "/2013-04-01/hostedzone/Z9/rrset/")
	deep := "<ChangeThingsRequest>" + strings.Repeat("<X>", awsproto.MaxDepth+1) + strings.Repeat("</X>", awsproto.MaxDepth+1) + "</ChangeThingsRequest>"
	many := "<ChangeThingsRequest><Things>" + strings.Repeat("<Thing/>", awsproto.MaxItems+1) + "</Things></ChangeThingsRequest>"
	for name, body := range map[string]string{
		"malformed":      "<ChangeThingsRequest><Note>x</ChangeThingsRequest>",
		"truncated":      "<ChangeThingsRequest><Note>x</Note>",
		"two roots":      "<ChangeThingsRequest/><ChangeThingsRequest/>",
		"deep":           deep,
		"many items":     many,
		"bad bool":       "<ChangeThingsRequest><Things><Thing><On>yes</On></Thing></Things></ChangeThingsRequest>",
		"text in a list": "<ChangeThingsRequest><Things><Thing><Values><Value><B/></Value></Values></Thing></Things></ChangeThingsRequest>",
	} {
		var in changeIn
		if err := Decode(Request{Op: op, Labels: labels, Body: []byte(body), Invalid: "InvalidInput"}, &in); code(err) != "InvalidInput" {
			t.Errorf("%s: %v, want InvalidInput", name, err)
		}
	}
}

// TestWriteResponse: lists wrap items named by the model, members bound to
// headers go in headers, and the status is the operation's.
func TestWriteResponse(t *testing.T) {
	op, _, _, _ := svc.Match("POST", "/2013-04-01/hostedzone")
	rec := httptest.NewRecorder()
	name, loc := "a<b", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1"
	WriteResponse(rec, svc, op, "req-1", &thingOut{Location: &loc, Things: []thing{{Name: &name, Values: []string{"v"}}}, Count: 0})
	want := xml.Header + `<CreateThingResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Things><Thing><Name>a&lt;b</Name><On>false</On><Values><Value>v</Value></Values></Thing></Things><Count>0</Count></CreateThingResponse>`
	if rec.Code != 201 || rec.Body.String() != want || rec.Header().Get("Location") != loc {
		t.Fatalf("response %d %s %v", rec.Code, rec.Body, rec.Header())
	}
}

// TestWriteError: the REST-XML ErrorResponse, with the model's status
// for the code
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html#API_GetHostedZone_Errors:
// NoSuchHostedZone is 404).
func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, svc, "req-2", awsproto.ClientError("NoSuchThing", "No thing <%s>", "x"))
	want := xml.Header + `<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>NoSuchThing</Code><Message>No thing &lt;x&gt;</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`
	if rec.Code != http.StatusNotFound || rec.Body.String() != want {
		t.Fatalf("error %d %s", rec.Code, rec.Body)
	}
}
