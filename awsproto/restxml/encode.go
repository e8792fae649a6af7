package restxml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"berth/awsproto"
)

// WriteResponse writes out, the SDK output of op, as <NameResponse> in the
// service's namespace with op's success status; members bound to headers
// (Location) go in headers.
func WriteResponse(w http.ResponseWriter, s *Service, op *Operation, requestID string, out any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	root := op.Name + "Response"
	buf.WriteString(`<` + root + ` xmlns="` + s.Namespace + `">`)
	rv := reflect.ValueOf(out)
	if rv.IsValid() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		rv = reflect.Indirect(rv)
		for _, f := range awsproto.Fields(rv.Type()) {
			loc, ok := op.Output[f.GoName]
			if !ok || loc.In != "header" {
				continue
			}
			if fv := reflect.Indirect(rv.Field(f.Index)); fv.IsValid() && fv.Kind() == reflect.String && fv.Len() > 0 {
				w.Header().Set(loc.Name, fv.String())
			}
		}
		encoder{&buf, s}.members(rv, op.Output)
	}
	buf.WriteString(`</` + root + `>`)
	write(w, op.Status, requestID, buf.Bytes())
}

// WriteError writes err as the protocol's ErrorResponse, with the status
// the service's model gives its code when err has none of its own.
func WriteError(w http.ResponseWriter, s *Service, requestID string, err *awsproto.Error) {
	var buf bytes.Buffer
	fault := "Sender"
	if !err.Sender {
		fault = "Receiver"
	}
	buf.WriteString(xml.Header)
	buf.WriteString(`<ErrorResponse xmlns="` + s.Namespace + `"><Error><Type>` + fault + `</Type><Code>`)
	escape(&buf, err.Code)
	buf.WriteString(`</Code><Message>`)
	escape(&buf, err.Message)
	buf.WriteString(`</Message></Error><RequestId>`)
	escape(&buf, requestID)
	buf.WriteString(`</RequestId></ErrorResponse>`)
	status := err.Status
	if st, ok := s.Errors[err.Code]; ok && status == http.StatusBadRequest {
		status = st
	}
	write(w, status, requestID, buf.Bytes())
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
	buf *bytes.Buffer
	svc *Service
}

// members writes the set members of the struct v, but those bound outside
// the body (skip).
func (e encoder) members(v reflect.Value, skip map[string]Location) {
	t := v.Type()
	for _, f := range awsproto.Fields(t) {
		if _, bound := skip[f.GoName]; bound {
			continue
		}
		fv := v.Field(f.Index)
		if awsproto.Unset(fv) {
			continue
		}
		item := ""
		if f.Type.Kind() == reflect.Slice {
			if item = e.svc.Items[t.Name()+"."+f.GoName]; item == "" {
				item = "member"
			}
		}
		e.element(f.GoName, item, fv)
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
		e.members(v, nil)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		buf.WriteString(base64.StdEncoding.EncodeToString(v.Bytes()))
	case t.Kind() == reflect.Slice:
		for i := range v.Len() {
			e.element(item, "member", v.Index(i))
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
	default:
		panic(fmt.Sprintf("restxml: cannot encode %s", t))
	}
	buf.WriteString("</" + name + ">")
}

func escape(buf *bytes.Buffer, s string) { xml.EscapeText(buf, []byte(s)) }
