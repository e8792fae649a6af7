// Package query is the AWS query protocol (ELBv2, IAM, STS) and its EC2
// dialect on the server side: form-encoded requests decode into the SDK's
// input structs and the SDK's output structs encode as the XML responses
// the SDKs parse.
//
// Wire rules (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html):
// members are named as the SDK names its fields, lists are X.member.N (from
// 1), maps X.entry.N.key / X.entry.N.value, timestamps ISO 8601, and every
// response wraps its result in <ActionResponse><ActionResult>. The EC2
// dialect (ec2.go) differs in names and list forms.
package query

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth/awsproto"
)

// Decode fills the SDK input struct that v points to from form values. A
// value that does not parse as its member's type is a ValidationError.
func Decode(form url.Values, v any) error {
	d := newDecoder(form, awsQuery{})
	_, err := d.value(reflect.ValueOf(v).Elem(), "")
	return err
}

// Bounds on a form, checked before it is parsed, so that no body costs
// much more memory than its size: query keys nest a few segments deep
// (Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight).
const (
	// MaxParams bounds the parameters of one form. A CloudWatch
	// PutMetricData of 1,000 metrics with their dimensions, values and
	// counts legitimately sends tens of thousands in its 1 MB
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html),
	// beyond net/url's default bound of 10,000, which cmd/berth raises to
	// this (go:debug urlmaxqueryparams).
	MaxParams = 200_000
	// MaxKeySegments bounds the dot-separated segments of one key.
	MaxKeySegments = 32
)

// ParseForm parses a form-encoded query string or body within MaxParams
// and MaxKeySegments.
func ParseForm(s string) (url.Values, error) {
	if n := strings.Count(s, "&") + 1; n > MaxParams {
		return nil, fmt.Errorf("more than %d parameters", MaxParams)
	}
	form, err := url.ParseQuery(s)
	if err != nil {
		return nil, err
	}
	for k := range form {
		if strings.Count(k, ".") >= MaxKeySegments {
			return nil, fmt.Errorf("a parameter name has more than %d segments", MaxKeySegments)
		}
	}
	return form, nil
}

// dialect is how a protocol names members and list items on the wire.
type dialect interface {
	// inputName is the form name of member f of struct type t.
	inputName(t reflect.Type, f awsproto.Field) string
	// inputItem is the form name of item i (from 1) of the list at name.
	inputItem(name string, i int) string
	// outputName is the element name of member f of struct type t.
	outputName(t reflect.Type, f awsproto.Field) string
	// outputItem is the element name of an item of the list member f of
	// struct type t (nil t and f for a list in a list).
	outputItem(t reflect.Type, f *awsproto.Field, elem reflect.Type) string
}

// awsQuery is the dialect of the query protocol proper.
type awsQuery struct{}

func (awsQuery) inputName(_ reflect.Type, f awsproto.Field) string             { return f.GoName }
func (awsQuery) inputItem(name string, i int) string                           { return name + ".member." + strconv.Itoa(i) }
func (awsQuery) outputName(_ reflect.Type, f awsproto.Field) string            { return f.GoName }
func (awsQuery) outputItem(reflect.Type, *awsproto.Field, reflect.Type) string { return "member" }

type decoder struct {
	form    url.Values
	keys    []string // the form's keys, sorted
	dialect dialect
}

func newDecoder(form url.Values, d dialect) decoder {
	return decoder{form: form, keys: slices.Sorted(maps.Keys(form)), dialect: d}
}

// present reports whether any form key is name or starts with name + ".":
// a binary search of the sorted keys, so that decoding stays within
// O(n log n) of the form's size and builds nothing per key segment.
func (d decoder) present(name string) bool {
	if _, ok := d.form[name]; ok {
		return true
	}
	prefix := name + "."
	i, _ := slices.BinarySearch(d.keys, prefix)
	return i < len(d.keys) && strings.HasPrefix(d.keys[i], prefix)
}

// value decodes the member at name into v and reports whether it was set.
func (d decoder) value(v reflect.Value, name string) (bool, error) {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		if name != "" && !d.present(name) {
			return false, nil
		}
		p := reflect.New(t.Elem())
		ok, err := d.value(p.Elem(), name)
		if ok {
			v.Set(p)
		}
		return ok, err
	case t.Kind() == reflect.Struct && !awsproto.IsTime(t):
		set := false
		for _, f := range awsproto.Fields(t) {
			child := d.dialect.inputName(t, f)
			if name != "" {
				child = name + "." + child
			}
			ok, err := d.value(v.Field(f.Index), child)
			if err != nil {
				return false, err
			}
			set = set || ok
		}
		return set || name == "" || d.present(name), nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if _, empty := d.form[name]; empty && !d.present(d.dialect.inputItem(name, 1)) {
			v.Set(reflect.MakeSlice(t, 0, 0)) // "X=" is an explicitly empty list
			return true, nil
		}
		out := reflect.MakeSlice(t, 0, 0)
		for i := 1; ; i++ {
			item := d.dialect.inputItem(name, i)
			if !d.present(item) {
				break
			}
			if i > awsproto.MaxItems {
				return false, tooMany(name)
			}
			e := reflect.New(t.Elem()).Elem()
			if _, err := d.value(e, item); err != nil {
				return false, err
			}
			out = reflect.Append(out, e)
		}
		if out.Len() == 0 {
			return false, nil
		}
		v.Set(out)
		return true, nil
	case t.Kind() == reflect.Map:
		out := reflect.MakeMap(t)
		for i := 1; ; i++ {
			entry := name + ".entry." + strconv.Itoa(i)
			if !d.present(entry) {
				break
			}
			if i > awsproto.MaxItems {
				return false, tooMany(name)
			}
			e := reflect.New(t.Elem()).Elem()
			if _, err := d.value(e, entry+".value"); err != nil {
				return false, err
			}
			out.SetMapIndex(reflect.ValueOf(d.form.Get(entry+".key")).Convert(t.Key()), e)
		}
		if out.Len() == 0 {
			return false, nil
		}
		v.Set(out)
		return true, nil
	}
	raw, ok := d.form[name]
	if !ok {
		return false, nil
	}
	return true, scalar(v, name, raw[0])
}

func tooMany(name string) error {
	return awsproto.ClientError("ValidationError", "Parameter %s has more than %d members", name, awsproto.MaxItems)
}

// decimal is the form of a decimal number.
var decimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func scalar(v reflect.Value, name, s string) error {
	t := v.Type()
	bad := func(want string) error {
		return awsproto.ClientError("ValidationError", "Value '%s' for parameter %s is not a valid %s", s, name, want)
	}
	if awsproto.IsTime(t) {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad("timestamp")
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			return bad("boolean")
		}
		v.SetBool(b)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		i, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return bad("integer")
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		// Decimal numbers, and NaN and (-)Infinity as the Smithy query
		// protocol writes them; not Go's other forms (1_0, 0x1p4, Inf).
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || !decimal.MatchString(s) && s != "NaN" && s != "Infinity" && s != "-Infinity" {
			return bad("number")
		}
		v.SetFloat(f)
	case reflect.Slice: // blob
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad("base64 blob")
		}
		v.SetBytes(b)
	}
	return nil
}

// WriteResponse writes out as <action>Response/<action>Result in the
// namespace xmlns, with the request id in ResponseMetadata.
func WriteResponse(w http.ResponseWriter, xmlns, action, requestID string, out any) {
	var buf bytes.Buffer
	buf.WriteString(`<` + action + `Response xmlns="` + xmlns + `"><` + action + `Result>`)
	if rv := reflect.ValueOf(out); rv.IsValid() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		encoder{&buf, awsQuery{}}.members(reflect.Indirect(rv))
	}
	buf.WriteString(`</` + action + `Result><ResponseMetadata><RequestId>`)
	escape(&buf, requestID)
	buf.WriteString(`</RequestId></ResponseMetadata></` + action + `Response>`)
	write(w, http.StatusOK, requestID, buf.Bytes())
}

// WriteError writes err as the query protocol's ErrorResponse.
func WriteError(w http.ResponseWriter, xmlns, requestID string, err *awsproto.Error) {
	var buf bytes.Buffer
	fault := "Sender"
	if !err.Sender {
		fault = "Receiver"
	}
	buf.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + fault + `</Type><Code>`)
	escape(&buf, err.Code)
	buf.WriteString(`</Code><Message>`)
	escape(&buf, err.Message)
	buf.WriteString(`</Message></Error><RequestId>`)
	escape(&buf, requestID)
	buf.WriteString(`</RequestId></ErrorResponse>`)
	write(w, err.Status, requestID, buf.Bytes())
}

func write(w http.ResponseWriter, status int, requestID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

type encoder struct {
	buf     *bytes.Buffer
	dialect dialect
}

func (e encoder) members(v reflect.Value) {
	for _, f := range awsproto.Fields(v.Type()) {
		fv := v.Field(f.Index)
		if awsproto.Unset(fv) {
			continue
		}
		item := ""
		if t := f.Type; t.Kind() == reflect.Slice {
			item = e.dialect.outputItem(v.Type(), &f, t.Elem())
		}
		e.element(e.dialect.outputName(v.Type(), f), item, fv)
	}
}

// element writes v as the element name; item names the items of a list.
func (e encoder) element(name, item string, v reflect.Value) {
	buf := e.buf
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	buf.WriteString("<" + name + ">")
	t := v.Type()
	switch {
	case awsproto.IsTime(t):
		buf.WriteString(v.Interface().(time.Time).UTC().Format("2006-01-02T15:04:05.000Z"))
	case t.Kind() == reflect.Struct:
		e.members(v)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		buf.WriteString(base64.StdEncoding.EncodeToString(v.Bytes()))
	case t.Kind() == reflect.Slice:
		for i := range v.Len() {
			inner := ""
			if t.Elem().Kind() == reflect.Slice {
				inner = e.dialect.outputItem(nil, nil, t.Elem().Elem())
			}
			e.element(item, inner, v.Index(i))
		}
	case t.Kind() == reflect.Map:
		for _, k := range awsproto.SortedKeys(v) {
			buf.WriteString("<entry><key>")
			escape(buf, k.String())
			buf.WriteString("</key>")
			inner := ""
			if t.Elem().Kind() == reflect.Slice {
				inner = e.dialect.outputItem(nil, nil, t.Elem().Elem())
			}
			e.element("value", inner, v.MapIndex(k))
			buf.WriteString("</entry>")
		}
	case t.Kind() == reflect.String:
		escape(buf, v.String())
	case t.Kind() == reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			buf.WriteString(awsproto.NonFinite(f))
			break
		}
		buf.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, t.Bits()))
	}
	buf.WriteString("</" + name + ">")
}

func escape(buf *bytes.Buffer, s string) { xml.EscapeText(buf, []byte(s)) }
