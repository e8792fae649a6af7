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
	"encoding/json"
	"fmt"
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

// Decode fills the SDK input struct that v points to from a JSON body. An
// empty body is an empty object. Malformed JSON and values of the wrong type
// are a SerializationException, as AWS answers them.
func (c Codec) Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// JSON is UTF-8 (RFC 8259 section 8.1); the decoder would quietly
	// turn other bytes into U+FFFD and store what the client never sent.
	if !utf8.Valid(body) {
		return serializationError("malformed JSON body: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return serializationError("malformed JSON body: %v", err)
	}
	if dec.More() {
		return serializationError("malformed JSON body: trailing data")
	}
	if _, ok := doc.(map[string]any); !ok {
		return serializationError("the request body must be a JSON object")
	}
	return c.assign(reflect.ValueOf(v).Elem(), doc, "")
}

func serializationError(format string, args ...any) *awsproto.Error {
	return awsproto.ClientError("SerializationException", format, args...)
}

func (c Codec) assign(v reflect.Value, j any, path string) error {
	if j == nil {
		return nil // null is the same as absent
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := c.assign(p.Elem(), j, path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case awsproto.IsTime(t):
		n, ok := j.(json.Number)
		if !ok {
			return typeError(path, "Timestamp", j)
		}
		tm, err := epochSeconds(n.String())
		if err != nil {
			return typeError(path, "Timestamp", j)
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := j.(string)
		if !ok {
			return typeError(path, "String", j)
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := j.(bool)
		if !ok {
			return typeError(path, "Boolean", j)
		}
		v.SetBool(b)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := j.(json.Number)
		if !ok {
			return typeError(path, "Integer", j)
		}
		i, err := strconv.ParseInt(n.String(), 10, t.Bits())
		if err != nil {
			return serializationError("%s: %s is not a valid %d-bit integer", path, n, t.Bits())
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		n, ok := j.(json.Number)
		if !ok {
			return typeError(path, "Double", j)
		}
		f, err := strconv.ParseFloat(n.String(), t.Bits())
		if err != nil {
			return serializationError("%s: %s is not a valid number", path, n)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blob
			s, ok := j.(string)
			if !ok {
				return typeError(path, "Blob", j)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return serializationError("%s: not valid base64", path)
			}
			v.SetBytes(b)
			return nil
		}
		arr, ok := j.([]any)
		if !ok {
			return typeError(path, "List", j)
		}
		out := reflect.MakeSlice(t, len(arr), len(arr))
		for i, e := range arr {
			if err := c.assign(out.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(out)
	case reflect.Map:
		obj, ok := j.(map[string]any)
		if !ok {
			return typeError(path, "Map", j)
		}
		out := reflect.MakeMapWithSize(t, len(obj))
		for k, e := range obj {
			ev := reflect.New(t.Elem()).Elem()
			if err := c.assign(ev, e, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		v.Set(out)
	case reflect.Struct:
		obj, ok := j.(map[string]any)
		if !ok {
			return typeError(path, "Structure", j)
		}
		for _, f := range awsproto.Fields(t) {
			e, present := obj[c.name(t, f)]
			if !present {
				continue
			}
			if err := c.assign(v.Field(f.Index), e, joinPath(path, c.name(t, f))); err != nil {
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

func typeError(path, want string, got any) error {
	kind := "object"
	switch got.(type) {
	case string:
		kind = "string"
	case bool:
		kind = "boolean"
	case json.Number:
		kind = "number"
	case []any:
		kind = "array"
	}
	return serializationError("Unexpected %s for member '%s': expected %s", kind, path, want)
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
