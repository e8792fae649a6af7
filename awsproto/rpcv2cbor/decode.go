package rpcv2cbor

import (
	"fmt"
	"math"
	"reflect"
	"time"
	"unicode/utf8"

	"berth/awsproto"
)

// Decode fills the SDK input struct that v points to from a CBOR body
// (RFC 8949). An empty body is an empty input. Malformed CBOR (including
// text that is not UTF-8 and bytes after the body's map) and values of the
// wrong type are a SerializationException.
//
// The body is read straight into the struct, guided by its type: members
// the struct does not have are checked and skipped without being built,
// and what is built is bounded (awsproto.MaxItems per list or map,
// awsproto.Budget in all), so that no body costs much more memory than
// its size.
func Decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	p := &parser{b: body}
	if body[0]>>5 != majorMap {
		if err := p.skip(0); err != nil {
			return err
		}
		return awsproto.SerializationError("the request body must be a CBOR map")
	}
	if err := p.value(reflect.ValueOf(v).Elem(), "", 0); err != nil {
		return err
	}
	if p.i < len(p.b) {
		return awsproto.SerializationError("malformed CBOR body: %d bytes after the body's map", len(p.b)-p.i)
	}
	return nil
}

// The major types of RFC 8949 section 3.1.
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorList   = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// indefinite is the argument of a head whose length is indefinite.
const indefinite = math.MaxUint64

// Simple values and floats (major type 7).
const (
	simpleFalse     = 0xf4
	simpleTrue      = 0xf5
	simpleNull      = 0xf6
	simpleUndefined = 0xf7
	initFloat16     = 0xf9
	initFloat32     = 0xfa
	initFloat64     = 0xfb
	breakCode       = 0xff
)

// parser reads one CBOR body.
type parser struct {
	b      []byte
	i      int
	budget awsproto.Budget
}

func (p *parser) malformed(format string, args ...any) error {
	return awsproto.SerializationError("malformed CBOR body: "+format, args...)
}

// peek is the next initial byte; ok is false at the end.
func (p *parser) peek() (byte, bool) {
	if p.i < len(p.b) {
		return p.b[p.i], true
	}
	return 0, false
}

// head reads a data item's initial byte and argument: for lists, maps and
// strings the count or length, indefinite for an indefinite length. Its
// arguments are read as RFC 8949 section 3 says; a float's is its bits.
func (p *parser) head() (major byte, arg uint64, err error) {
	c, ok := p.peek()
	if !ok {
		return 0, 0, p.malformed("unexpected end")
	}
	p.i++
	major, info := c>>5, c&0x1f
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info <= 27:
		n := 1 << (info - 24)
		if p.i+n > len(p.b) {
			return 0, 0, p.malformed("unexpected end")
		}
		for _, b := range p.b[p.i : p.i+n] {
			arg = arg<<8 | uint64(b)
		}
		p.i += n
		return major, arg, nil
	case info == 31 && (major >= majorBytes && major <= majorMap):
		return major, indefinite, nil
	}
	return 0, 0, p.malformed("invalid initial byte 0x%02x at offset %d", c, p.i-1)
}

// count checks a definite list's or map's count against what is left of
// the body (each item takes a byte at least) and the bound on items.
func (p *parser) count(n uint64, path string, perItem int) error {
	if n != indefinite && n > uint64(len(p.b)-p.i)/uint64(perItem) {
		return p.malformed("%s: a count of %d items exceeds the body", path, n)
	}
	if n != indefinite && n > awsproto.MaxItems {
		return awsproto.TooManyItems(path)
	}
	return nil
}

// next reports whether item i of a list or map of count n follows,
// consuming the break that ends an indefinite one.
func (p *parser) next(i int, n uint64) (bool, error) {
	if n != indefinite {
		return uint64(i) < n, nil
	}
	c, ok := p.peek()
	if !ok {
		return false, p.malformed("unexpected end")
	}
	if c == breakCode {
		p.i++
		return false, nil
	}
	return true, nil
}

// str reads a byte or text string of the major type, definite or in
// chunks; text must be UTF-8 (RFC 8949 section 3.1).
func (p *parser) str(major byte, keep bool) ([]byte, error) {
	m, n, err := p.head()
	if err != nil {
		return nil, err
	}
	if m != major {
		return nil, p.malformed("expected a string at offset %d", p.i-1)
	}
	if n != indefinite {
		if n > uint64(len(p.b)-p.i) {
			return nil, p.malformed("unexpected end")
		}
		s := p.b[p.i : p.i+int(n)]
		p.i += int(n)
		if major == majorText && !utf8.Valid(s) {
			return nil, p.malformed("text is not valid UTF-8")
		}
		if !keep {
			return nil, nil
		}
		return append([]byte(nil), s...), nil
	}
	var out []byte
	for {
		c, ok := p.peek()
		if !ok {
			return nil, p.malformed("unexpected end")
		}
		if c == breakCode {
			p.i++
			return out, nil
		}
		if c&0x1f == 31 {
			return nil, p.malformed("a chunk of an indefinite string is itself indefinite")
		}
		chunk, err := p.str(major, keep)
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
	}
}

// skip checks and passes over one data item without building it.
func (p *parser) skip(depth int) error {
	if depth > awsproto.MaxDepth {
		return p.malformed("nested more than %d deep", awsproto.MaxDepth)
	}
	c, ok := p.peek()
	if !ok {
		return p.malformed("unexpected end")
	}
	switch c >> 5 {
	case majorBytes, majorText:
		_, err := p.str(c>>5, false)
		return err
	case majorList, majorMap:
		_, n, err := p.head()
		if err != nil {
			return err
		}
		per := 1
		if c>>5 == majorMap {
			per = 2
		}
		if n != indefinite && n > uint64(len(p.b)-p.i)/uint64(per) {
			return p.malformed("a count of %d items exceeds the body", n)
		}
		for i := 0; ; i++ {
			if more, err := p.next(i, n); err != nil || !more {
				return err
			}
			for range per {
				if err := p.skip(depth + 1); err != nil {
					return err
				}
			}
		}
	case majorTag:
		if _, _, err := p.head(); err != nil {
			return err
		}
		return p.skip(depth + 1)
	case majorSimple:
		if c == breakCode {
			return p.malformed("unexpected break at offset %d", p.i)
		}
	}
	_, _, err := p.head()
	return err
}

// describe names the CBOR type of the item that starts with c.
func describe(c byte) string {
	switch c >> 5 {
	case majorUint, majorNegInt:
		return "integer"
	case majorBytes:
		return "byte string"
	case majorText:
		return "text string"
	case majorList:
		return "array"
	case majorMap:
		return "map"
	case majorTag:
		return "tag"
	}
	switch c {
	case simpleFalse, simpleTrue:
		return "boolean"
	case initFloat16, initFloat32, initFloat64:
		return "float"
	}
	return "simple value"
}

// typeError checks and skips the item of the wrong type at path and
// returns the error for it.
func (p *parser) typeError(path, want string, depth int) error {
	got := describe(p.b[p.i])
	if err := p.skip(depth); err != nil {
		return err
	}
	return awsproto.SerializationError("Unexpected %s for member '%s': expected %s", got, path, want)
}

// integer reads an integer item.
func (p *parser) integer(path string) (int64, error) {
	major, n, err := p.head()
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt64 {
		return 0, awsproto.SerializationError("%s: the integer is out of range", path)
	}
	if major == majorNegInt {
		return -1 - int64(n), nil
	}
	return int64(n), nil
}

// float reads a float item (half, single or double precision).
func (p *parser) float() (float64, error) {
	c := p.b[p.i]
	_, bits, err := p.head()
	if err != nil {
		return 0, err
	}
	switch c {
	case initFloat16:
		return halfToFloat(uint16(bits)), nil
	case initFloat32:
		return float64(math.Float32frombits(uint32(bits))), nil
	}
	return math.Float64frombits(bits), nil
}

// halfToFloat converts an IEEE 754 half-precision float (RFC 8949
// appendix D).
func halfToFloat(h uint16) float64 {
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(mant, -24)
	case 31:
		f = math.Inf(1)
		if mant != 0 {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		f = -f
	}
	return f
}

// value reads the next data item into v, of the SDK type at path.
func (p *parser) value(v reflect.Value, path string, depth int) error {
	if depth > awsproto.MaxDepth {
		return p.malformed("nested more than %d deep", awsproto.MaxDepth)
	}
	c, ok := p.peek()
	if !ok {
		return p.malformed("unexpected end")
	}
	if c == simpleNull || c == simpleUndefined {
		p.i++
		return nil // null is the same as absent
	}
	t := v.Type()
	// A pointer's target is charged as its own value; the pointer is in
	// the size of what holds it.
	if t.Kind() != reflect.Pointer && !p.budget.Charge(int(t.Size())) {
		return awsproto.BeyondBounds()
	}
	major := c >> 5
	isNumber := major == majorUint || major == majorNegInt
	isFloat := c == initFloat16 || c == initFloat32 || c == initFloat64
	switch {
	case t.Kind() == reflect.Pointer:
		ptr := reflect.New(t.Elem())
		if err := p.value(ptr.Elem(), path, depth); err != nil {
			return err
		}
		v.Set(ptr)
		return nil
	case awsproto.IsTime(t):
		tm, err := p.time(path)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if major != majorText {
			return p.typeError(path, "String", depth)
		}
		s, err := p.str(majorText, true)
		if err != nil {
			return err
		}
		if !p.budget.Charge(len(s)) {
			return awsproto.BeyondBounds()
		}
		v.SetString(string(s))
	case reflect.Bool:
		if c != simpleTrue && c != simpleFalse {
			return p.typeError(path, "Boolean", depth)
		}
		p.i++
		v.SetBool(c == simpleTrue)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if !isNumber {
			return p.typeError(path, "Integer", depth)
		}
		i, err := p.integer(path)
		if err != nil {
			return err
		}
		if v.OverflowInt(i) {
			return awsproto.SerializationError("%s: %d is not a valid %d-bit integer", path, i, t.Bits())
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		switch {
		case isFloat:
			var err error
			if f, err = p.float(); err != nil {
				return err
			}
		case isNumber:
			i, err := p.integer(path)
			if err != nil {
				return err
			}
			if i > 1<<54 || i < -(1<<54) {
				return awsproto.SerializationError("%s: %d is not exactly a double", path, i)
			}
			f = float64(i)
		default:
			return p.typeError(path, "Double", depth)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blob
			if major != majorBytes {
				return p.typeError(path, "Blob", depth)
			}
			b, err := p.str(majorBytes, true)
			if err != nil {
				return err
			}
			if !p.budget.Charge(len(b)) {
				return awsproto.BeyondBounds()
			}
			v.SetBytes(b)
			return nil
		}
		if major != majorList {
			return p.typeError(path, "List", depth)
		}
		_, n, err := p.head()
		if err != nil {
			return err
		}
		if err := p.count(n, path, 1); err != nil {
			return err
		}
		out := reflect.MakeSlice(t, 0, 0)
		for i := 0; ; i++ {
			if more, err := p.next(i, n); err != nil {
				return err
			} else if !more {
				break
			}
			if i == awsproto.MaxItems {
				return awsproto.TooManyItems(path)
			}
			out = reflect.Append(out, reflect.Zero(t.Elem()))
			if err := p.value(out.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		v.Set(out)
	case reflect.Map, reflect.Struct:
		want := "Map"
		if t.Kind() == reflect.Struct {
			want = "Structure"
		}
		if major != majorMap {
			return p.typeError(path, want, depth)
		}
		_, n, err := p.head()
		if err != nil {
			return err
		}
		if err := p.count(n, path, 2); err != nil {
			return err
		}
		var out reflect.Value
		var fields []awsproto.Field
		if t.Kind() == reflect.Map {
			out = reflect.MakeMap(t)
		} else {
			fields = awsproto.Fields(t)
		}
		for i := 0; ; i++ {
			if more, err := p.next(i, n); err != nil {
				return err
			} else if !more {
				break
			}
			if i == awsproto.MaxItems {
				return awsproto.TooManyItems(path)
			}
			if c, _ := p.peek(); c>>5 != majorText {
				return p.malformed("%s: a map key is not a text string", path)
			}
			kb, err := p.str(majorText, true)
			if err != nil {
				return err
			}
			k := string(kb)
			if out.IsValid() {
				e := reflect.New(t.Elem()).Elem()
				if err := p.value(e, path+"."+k, depth+1); err != nil {
					return err
				}
				out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
				continue
			}
			found := false
			for _, f := range fields {
				if f.GoName == k {
					if err := p.value(v.Field(f.Index), joinPath(path, k), depth+1); err != nil {
						return err
					}
					found = true
					break
				}
			}
			if !found {
				if err := p.skip(depth + 1); err != nil {
					return err
				}
			}
		}
		if out.IsValid() {
			v.Set(out)
		}
	case reflect.Interface:
		// Unions and documents: none of the operations berth serves take one.
		return p.skip(depth)
	default:
		return awsproto.SerializationError("%s: unsupported member type %s", path, t)
	}
	return nil
}

// time reads a tag 1 epoch-seconds timestamp, integral or fractional
// (kept to the millisecond, as the SDK does).
func (p *parser) time(path string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, awsproto.SerializationError("Unexpected value for member '%s': expected Timestamp", path)
	}
	if c := p.b[p.i]; c>>5 != majorTag {
		return time.Time{}, p.typeError(path, "Timestamp", 0)
	}
	if _, id, err := p.head(); err != nil {
		return time.Time{}, err
	} else if id != 1 {
		return bad()
	}
	c, ok := p.peek()
	switch {
	case !ok:
		return time.Time{}, p.malformed("unexpected end")
	case c == initFloat16 || c == initFloat32 || c == initFloat64:
		secs, err := p.float()
		if err != nil {
			return time.Time{}, err
		}
		if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e15 {
			return bad()
		}
		return time.UnixMilli(int64(math.Round(secs * 1e3))).UTC(), nil
	case c>>5 == majorUint || c>>5 == majorNegInt:
		secs, err := p.integer(path)
		if err != nil || secs > 1e15 || secs < -1e15 {
			return bad()
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	return bad()
}
