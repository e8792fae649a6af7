// Package json11 is the AWS JSON 1.1 protocol (used by ECS) on the server
// side: it decodes request bodies into the SDK's input structs and encodes
// the SDK's output structs, with member names derived from the SDK types.
//
// Wire rules (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html):
// timestamps are epoch seconds, blobs base64, unset members omitted, errors
// carry the code in "__type" and in the X-Amzn-ErrorType header.
package json11

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"berth/awsproto"
)

// ContentType is the media type of requests and responses.
const ContentType = "application/x-amz-json-1.1"

// ContentType10 is the media type of AWS JSON 1.0, which differs from 1.1
// in nothing else
// (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
const ContentType10 = "application/x-amz-json-1.0"

// Codec is the protocol as one service names its members. Most services
// (ECS, CloudWatch Logs) lower the first letter of the SDK's Go field
// name; some (ACM) keep it as the model declares it.
type Codec struct {
	// KeepCase uses the Go field name as is.
	KeepCase bool
	// JSON10 answers in AWS JSON 1.0 (CloudWatch) rather than 1.1.
	JSON10 bool
	// KeepCaseOf are the structures whose members keep their case in a
	// service that lowers the others' (ECR's Tag: "Key", "Value").
	KeepCaseOf []reflect.Type
}

func (c Codec) name(t reflect.Type, f awsproto.Field) string {
	if c.KeepCase || slices.Contains(c.KeepCaseOf, t) {
		return f.GoName
	}
	return f.JSONName()
}

// epochSeconds parses a JSON number of seconds since the epoch exactly
// (decimal digits, not through a float) when it has no exponent.
func epochSeconds(n string) (time.Time, error) {
	if strings.ContainsAny(n, "eE") {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return time.Time{}, fmt.Errorf("bad timestamp")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	whole, frac, _ := strings.Cut(n, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		return time.Time{}, fmt.Errorf("bad timestamp")
	}
	nanos := 0
	if frac != "" {
		if nanos, err = strconv.Atoi((frac + "000000000")[:9]); err != nil {
			return time.Time{}, err
		}
	}
	if strings.HasPrefix(whole, "-") {
		nanos = -nanos
	}
	return time.Unix(sec, int64(nanos)).UTC(), nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Encode appends the JSON form of the SDK struct v (a pointer) to buf.
func (c Codec) Encode(buf *bytes.Buffer, v any) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		buf.WriteString("{}")
		return
	}
	c.encode(buf, rv)
}

func (c Codec) encode(buf *bytes.Buffer, v reflect.Value) {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		c.encode(buf, v.Elem())
		return
	}
	if awsproto.IsTime(t) {
		tm := v.Interface().(time.Time)
		buf.WriteString(strconv.FormatFloat(float64(tm.UnixMilli())/1000, 'f', -1, 64))
		return
	}
	switch t.Kind() {
	case reflect.String:
		writeString(buf, v.String())
	case reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			writeString(buf, awsproto.NonFinite(f)) // JSON has no such numbers
			return
		}
		buf.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, t.Bits()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			writeString(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
			return
		}
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			c.encode(buf, v.Index(i))
		}
		buf.WriteByte(']')
	case reflect.Map:
		buf.WriteByte('{')
		for i, k := range awsproto.SortedKeys(v) {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k.String())
			buf.WriteByte(':')
			c.encode(buf, v.MapIndex(k))
		}
		buf.WriteByte('}')
	case reflect.Struct:
		buf.WriteByte('{')
		first := true
		for _, f := range awsproto.Fields(t) {
			fv := v.Field(f.Index)
			if awsproto.Unset(fv) {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, c.name(t, f))
			buf.WriteByte(':')
			c.encode(buf, fv)
		}
		buf.WriteByte('}')
	default:
		buf.WriteString("null")
	}
}

// writeString writes s as a JSON string, escaping as encoding/json does
// (including <, > and & for HTML safety, and invalid UTF-8 as U+FFFD).
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			if r == utf8.RuneError {
				buf.WriteString(`\ufffd`)
			} else {
				buf.WriteString(`\u202`)
				buf.WriteByte(hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// WriteResponse writes a successful response carrying out.
func (c Codec) WriteResponse(w http.ResponseWriter, requestID string, out any) {
	var buf bytes.Buffer
	c.Encode(&buf, out)
	h := w.Header()
	h.Set("Content-Type", ContentType)
	if c.JSON10 {
		h.Set("Content-Type", ContentType10)
	}
	h.Set("X-Amzn-RequestId", requestID)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// WriteError writes err in the JSON 1.1 error envelope that the SDKs parse:
// the code in both the X-Amzn-ErrorType header and the body's "__type".
func WriteError(w http.ResponseWriter, requestID string, err *awsproto.Error) {
	Codec{}.WriteError(w, requestID, err)
}

// WriteError writes err in the error envelope of the codec's JSON version.
func (c Codec) WriteError(w http.ResponseWriter, requestID string, err *awsproto.Error) {
	var buf bytes.Buffer
	buf.WriteString(`{"__type":`)
	writeString(&buf, err.Code)
	buf.WriteString(`,"message":`)
	writeString(&buf, err.Message)
	for _, k := range slices.Sorted(maps.Keys(err.Fields)) {
		buf.WriteByte(',')
		writeString(&buf, k)
		buf.WriteByte(':')
		writeString(&buf, err.Fields[k])
	}
	buf.WriteByte('}')
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Amzn-RequestId", requestID)
	if c.JSON10 {
		h.Set("Content-Type", ContentType10)
	}
	h.Set("X-Amzn-ErrorType", err.Code)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(err.Status)
	w.Write(buf.Bytes())
}
