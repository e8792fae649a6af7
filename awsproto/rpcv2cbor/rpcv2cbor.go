// Package rpcv2cbor is the Smithy RPC v2 CBOR protocol (which
// aws-sdk-go-v2 speaks to CloudWatch) on the server side: it decodes CBOR
// request bodies into the SDK's input structs and encodes the SDK's output
// structs, with member names taken from the SDK's Go field names (the
// protocol uses the Smithy member names as they are).
//
// Wire rules (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html):
// requests are POST /service/{service}/operation/{operation} with the
// Smithy-Protocol: rpc-v2-cbor header; bodies are a CBOR map; timestamps are
// tag 1 epoch seconds; blobs byte strings; unset members omitted; errors
// carry the shape name in "__type". CBOR itself is read and written with
// smithy-go's encoding/cbor, the SDK's own implementation.
package rpcv2cbor

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"berth/awsproto"
)

// ContentType is the media type of request and response bodies.
const ContentType = "application/cbor"

// Decode fills the SDK input struct that v points to from a CBOR body. An
// empty body is an empty input. Malformed CBOR and values of the wrong type
// are a SerializationException.
func Decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	doc, err := cbor.Decode(body)
	if err != nil {
		return serializationError("malformed CBOR body: %v", err)
	}
	if _, ok := doc.(cbor.Map); !ok {
		return serializationError("the request body must be a CBOR map")
	}
	return assign(reflect.ValueOf(v).Elem(), doc, "")
}

func serializationError(format string, args ...any) *awsproto.Error {
	return awsproto.ClientError("SerializationException", format, args...)
}

func assign(v reflect.Value, c cbor.Value, path string) error {
	switch c.(type) {
	case nil, *cbor.Nil, *cbor.Undefined:
		return nil // null is the same as absent
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), c, path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case awsproto.IsTime(t):
		tm, err := asTime(c)
		if err != nil {
			return typeError(path, "Timestamp", c)
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := c.(cbor.String)
		if !ok {
			return typeError(path, "String", c)
		}
		v.SetString(string(s))
	case reflect.Bool:
		b, ok := c.(cbor.Bool)
		if !ok {
			return typeError(path, "Boolean", c)
		}
		v.SetBool(bool(b))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		i, err := cbor.AsInt64(c)
		if err != nil {
			return typeError(path, "Integer", c)
		}
		if v.OverflowInt(i) {
			return serializationError("%s: %d is not a valid %d-bit integer", path, i, t.Bits())
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, err := cbor.AsFloat64(c)
		if err != nil {
			return typeError(path, "Double", c)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blob
			b, ok := c.(cbor.Slice)
			if !ok {
				return typeError(path, "Blob", c)
			}
			v.SetBytes([]byte(b))
			return nil
		}
		list, ok := c.(cbor.List)
		if !ok {
			return typeError(path, "List", c)
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			if err := assign(out.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(out)
	case reflect.Map:
		m, ok := c.(cbor.Map)
		if !ok {
			return typeError(path, "Map", c)
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := assign(ev, e, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		v.Set(out)
	case reflect.Struct:
		m, ok := c.(cbor.Map)
		if !ok {
			return typeError(path, "Structure", c)
		}
		for _, f := range awsproto.Fields(t) {
			e, present := m[f.GoName]
			if !present {
				continue
			}
			if err := assign(v.Field(f.Index), e, joinPath(path, f.GoName)); err != nil {
				return err
			}
		}
	case reflect.Interface:
		// Unions and documents: none of the operations berth serves take one.
	default:
		return serializationError("%s: unsupported member type %s", path, t)
	}
	return nil
}

// asTime reads a tag 1 epoch-seconds timestamp, integral or fractional
// (kept to the millisecond, as the SDK does).
func asTime(c cbor.Value) (time.Time, error) {
	tag, ok := c.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, fmt.Errorf("not an epoch timestamp")
	}
	switch f := tag.Value.(type) {
	case cbor.Float32, cbor.Float64:
		secs, _ := cbor.AsFloat64(f)
		if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e15 {
			return time.Time{}, fmt.Errorf("timestamp out of range")
		}
		return time.UnixMilli(int64(math.Round(secs * 1e3))).UTC(), nil
	}
	secs, err := cbor.AsInt64(tag.Value)
	if err != nil || secs > 1e15 || secs < -1e15 {
		return time.Time{}, fmt.Errorf("timestamp out of range")
	}
	return time.Unix(secs, 0).UTC(), nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func typeError(path, want string, got cbor.Value) error {
	kind := fmt.Sprintf("%T", got)
	return serializationError("Unexpected %s for member '%s': expected %s", kind, path, want)
}

// Encode returns the CBOR form of the SDK struct v (a pointer).
func Encode(v any) []byte {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return cbor.Encode(cbor.Map{})
	}
	return cbor.Encode(value(rv))
}

func value(v reflect.Value) cbor.Value {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		return value(v.Elem())
	}
	if awsproto.IsTime(t) {
		return &cbor.Tag{ID: 1, Value: cbor.Float64(epochSeconds(v.Interface().(time.Time).UnixMilli()))}
	}
	switch t.Kind() {
	case reflect.String:
		return cbor.String(v.String())
	case reflect.Bool:
		return cbor.Bool(v.Bool())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if i := v.Int(); i < 0 {
			return cbor.NegInt(uint64(-(i + 1)) + 1)
		} else {
			return cbor.Uint(uint64(i))
		}
	case reflect.Float32:
		return cbor.Float32(float32(v.Float()))
	case reflect.Float64:
		return cbor.Float64(v.Float())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return cbor.Slice(append([]byte{}, v.Bytes()...))
		}
		list := make(cbor.List, v.Len())
		for i := range v.Len() {
			list[i] = value(v.Index(i))
		}
		return list
	case reflect.Map:
		m := make(cbor.Map, v.Len())
		for _, k := range awsproto.SortedKeys(v) {
			m[k.String()] = value(v.MapIndex(k))
		}
		return m
	case reflect.Struct:
		m := cbor.Map{}
		for _, f := range awsproto.Fields(t) {
			fv := v.Field(f.Index)
			if awsproto.Unset(fv) {
				continue
			}
			m[f.GoName] = value(fv)
		}
		return m
	}
	return &cbor.Nil{}
}

// epochSeconds is ms as seconds, the float the SDK reads back as the same
// millisecond: the SDK truncates seconds × 1000, so a quotient that
// rounded down (1.562 as 1.5619999...) is nudged up to the next float.
func epochSeconds(ms int64) float64 {
	f := float64(ms) / 1e3
	for int64(f*1e3) < ms {
		f = math.Nextafter(f, math.Inf(1))
	}
	for int64(f*1e3) > ms {
		f = math.Nextafter(f, math.Inf(-1))
	}
	return f
}

// WriteResponse writes a successful response carrying out.
func WriteResponse(w http.ResponseWriter, requestID string, out any) {
	body := Encode(out)
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", ContentType)
	h.Set("X-Amzn-RequestId", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// WriteError writes err in the error envelope the SDKs parse: a map whose
// "__type" is typ, the error's shape name, and whose "message" is its text.
func WriteError(w http.ResponseWriter, requestID, typ string, err *awsproto.Error) {
	body := cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(err.Message)})
	h := w.Header()
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", ContentType)
	h.Set("X-Amzn-RequestId", requestID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(err.Status)
	w.Write(body)
}
