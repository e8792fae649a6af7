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

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
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
