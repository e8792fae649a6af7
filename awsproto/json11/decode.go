package json11

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"berth/awsproto"
)

// Decode fills the SDK input struct that v points to from a JSON body. An
// empty body is an empty object. Malformed JSON and values of the wrong type
// are a SerializationException, as AWS answers them.
//
// The body is read straight into the struct, guided by its type: members
// the struct does not have are checked and skipped without being built,
// and what is built is bounded (awsproto.MaxItems per list or map,
// awsproto.Budget in all), so that no body costs much more memory than
// its size.
func (c Codec) Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// JSON is UTF-8 (RFC 8259 section 8.1); other bytes would have to
	// become U+FFFD, storing what the client never sent.
	if !utf8.Valid(body) {
		return awsproto.SerializationError("malformed JSON body: not valid UTF-8")
	}
	p := &parser{c: c, b: body}
	p.ws()
	if p.peek() != '{' {
		if err := p.skip(0); err != nil {
			return err
		}
		return awsproto.SerializationError("the request body must be a JSON object")
	}
	if err := p.value(reflect.ValueOf(v).Elem(), "", 0); err != nil {
		return err
	}
	p.ws()
	if p.i < len(p.b) {
		return awsproto.SerializationError("malformed JSON body: trailing data at offset %d", p.i)
	}
	return nil
}

// parser reads one JSON body.
type parser struct {
	c      Codec
	b      []byte
	i      int
	budget awsproto.Budget
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek is the next byte, 0 at the end.
func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) syntax() error {
	if p.i >= len(p.b) {
		return awsproto.SerializationError("malformed JSON body: unexpected end of JSON input")
	}
	return awsproto.SerializationError("malformed JSON body: invalid character %q at offset %d", p.b[p.i], p.i)
}

// expect consumes c after optional whitespace.
func (p *parser) expect(c byte) error {
	p.ws()
	if p.peek() != c {
		return p.syntax()
	}
	p.i++
	return nil
}

// more reads what follows a member of a list or object: true after a
// comma, false at the closing byte.
func (p *parser) more(closing byte) (bool, error) {
	p.ws()
	switch p.peek() {
	case ',':
		p.i++
		return true, nil
	case closing:
		p.i++
		return false, nil
	}
	return false, p.syntax()
}

// open consumes the opening byte of a list or object and reports whether
// it is empty (then its closing byte is consumed too).
func (p *parser) open(closing byte) bool {
	p.i++
	p.ws()
	if p.peek() == closing {
		p.i++
		return true
	}
	return false
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return p.syntax()
	}
	p.i += len(word)
	return nil
}

// number reads a JSON number (RFC 8259 section 6) and returns its text.
func (p *parser) number() (string, error) {
	start := p.i
	digits := func() bool {
		n := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		return p.i > n
	}
	if p.peek() == '-' {
		p.i++
	}
	if p.peek() == '0' {
		p.i++
	} else if !digits() {
		return "", p.syntax()
	}
	if p.peek() == '.' {
		p.i++
		if !digits() {
			return "", p.syntax()
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !digits() {
			return "", p.syntax()
		}
	}
	return string(p.b[start:p.i]), nil
}

// str reads a JSON string. An escaped UTF-16 surrogate must be half of a
// pair: a lone one names no character, and storing U+FFFD for it would
// store what the client did not send.
func (p *parser) str(keep bool) (string, error) {
	p.i++ // the opening quote
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := ""
			if keep {
				s = string(p.b[start:p.i])
			}
			p.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var out []byte
	if keep {
		out = append(out, p.b[start:p.i]...)
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.syntax()
		case c != '\\':
			if keep {
				out = append(out, c)
			}
			p.i++
			continue
		}
		p.i++ // the backslash
		var r rune
		switch p.peek() {
		case '"', '\\', '/':
			r = rune(p.b[p.i])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			u, ok := p.hex4(p.i + 1)
			if !ok {
				return "", p.syntax()
			}
			p.i += 4
			r = rune(u)
			if utf16.IsSurrogate(r) {
				lo, ok := p.hex4(p.i + 3)
				if r >= 0xdc00 || !ok || !bytes.HasPrefix(p.b[p.i+1:], []byte(`\u`)) || !utf16.IsSurrogate(rune(lo)) || lo < 0xdc00 {
					return "", awsproto.SerializationError("malformed JSON body: lone UTF-16 surrogate \\u%04x at offset %d", u, p.i-5)
				}
				r = utf16.DecodeRune(r, rune(lo))
				p.i += 6
			}
		default:
			return "", p.syntax()
		}
		p.i++
		if keep {
			out = utf8.AppendRune(out, r)
		}
	}
	return "", p.syntax()
}

// hex4 reads four hex digits at offset at.
func (p *parser) hex4(at int) (uint16, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[at:at+4]), 16, 16)
	return uint16(n), err == nil
}

// skip checks and passes over one value of any type without building it.
func (p *parser) skip(depth int) error {
	if depth > awsproto.MaxDepth {
		return awsproto.SerializationError("malformed JSON body: nested more than %d deep", awsproto.MaxDepth)
	}
	p.ws()
	switch p.peek() {
	case '"':
		_, err := p.str(false)
		return err
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	case '[':
		if p.open(']') {
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if more, err := p.more(']'); err != nil || !more {
				return err
			}
		}
	case '{':
		if p.open('}') {
			return nil
		}
		for {
			p.ws()
			if p.peek() != '"' {
				return p.syntax()
			}
			if _, err := p.str(false); err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if more, err := p.more('}'); err != nil || !more {
				return err
			}
		}
	}
	_, err := p.number()
	return err
}

// kind names the JSON type of the value that starts with c.
func kind(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	return "number"
}

// typeError checks and skips the value of the wrong type at path and
// returns the error for it.
func (p *parser) typeError(path, want string, depth int) error {
	got := kind(p.peek())
	if err := p.skip(depth); err != nil {
		return err
	}
	return awsproto.SerializationError("Unexpected %s for member '%s': expected %s", got, path, want)
}

// value reads the next JSON value into v, of the SDK type at path.
func (p *parser) value(v reflect.Value, path string, depth int) error {
	if depth > awsproto.MaxDepth {
		return awsproto.SerializationError("malformed JSON body: nested more than %d deep", awsproto.MaxDepth)
	}
	p.ws()
	c := p.peek()
	if c == 'n' {
		return p.literal("null") // null is the same as absent
	}
	t := v.Type()
	// A pointer's target is charged as its own value; the pointer is in
	// the size of what holds it.
	if t.Kind() != reflect.Pointer && !p.budget.Charge(int(t.Size())) {
		return awsproto.BeyondBounds()
	}
	switch {
	case t.Kind() == reflect.Pointer:
		ptr := reflect.New(t.Elem())
		if err := p.value(ptr.Elem(), path, depth); err != nil {
			return err
		}
		v.Set(ptr)
		return nil
	case awsproto.IsTime(t):
		if kind(c) != "number" {
			return p.typeError(path, "Timestamp", depth)
		}
		n, err := p.number()
		if err != nil {
			return err
		}
		tm, err := epochSeconds(n)
		if err != nil {
			return awsproto.SerializationError("Unexpected number for member '%s': expected Timestamp", path)
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if c != '"' {
			return p.typeError(path, "String", depth)
		}
		s, err := p.str(true)
		if err != nil {
			return err
		}
		if !p.budget.Charge(len(s)) {
			return awsproto.BeyondBounds()
		}
		v.SetString(s)
	case reflect.Bool:
		switch c {
		case 't':
			v.SetBool(true)
			return p.literal("true")
		case 'f':
			return p.literal("false")
		}
		return p.typeError(path, "Boolean", depth)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if kind(c) != "number" {
			return p.typeError(path, "Integer", depth)
		}
		n, err := p.number()
		if err != nil {
			return err
		}
		i, err := strconv.ParseInt(n, 10, t.Bits())
		if err != nil {
			return awsproto.SerializationError("%s: %s is not a valid %d-bit integer", path, n, t.Bits())
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		if kind(c) != "number" {
			return p.typeError(path, "Double", depth)
		}
		n, err := p.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(n, t.Bits())
		if err != nil {
			return awsproto.SerializationError("%s: %s is not a valid number", path, n)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // blob
			if c != '"' {
				return p.typeError(path, "Blob", depth)
			}
			s, err := p.str(true)
			if err != nil {
				return err
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return awsproto.SerializationError("%s: not valid base64", path)
			}
			if !p.budget.Charge(len(b)) {
				return awsproto.BeyondBounds()
			}
			v.SetBytes(b)
			return nil
		}
		if c != '[' {
			return p.typeError(path, "List", depth)
		}
		out := reflect.MakeSlice(t, 0, 0)
		if !p.open(']') {
			for i := 0; ; i++ {
				if i == awsproto.MaxItems {
					return awsproto.TooManyItems(path)
				}
				out = reflect.Append(out, reflect.Zero(t.Elem()))
				if err := p.value(out.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
				if more, err := p.more(']'); err != nil {
					return err
				} else if !more {
					break
				}
			}
		}
		v.Set(out)
	case reflect.Map:
		if c != '{' {
			return p.typeError(path, "Map", depth)
		}
		out := reflect.MakeMap(t)
		if !p.open('}') {
			for n := 0; ; n++ {
				if n == awsproto.MaxItems {
					return awsproto.TooManyItems(path)
				}
				k, err := p.key()
				if err != nil {
					return err
				}
				e := reflect.New(t.Elem()).Elem()
				if err := p.value(e, path+"."+k, depth+1); err != nil {
					return err
				}
				out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
				if more, err := p.more('}'); err != nil {
					return err
				} else if !more {
					break
				}
			}
		}
		v.Set(out)
	case reflect.Struct:
		if c != '{' {
			return p.typeError(path, "Structure", depth)
		}
		if p.open('}') {
			return nil
		}
		fields := awsproto.Fields(t)
		for {
			k, err := p.key()
			if err != nil {
				return err
			}
			found := false
			for _, f := range fields {
				if p.c.named(t, f, k) {
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
			if more, err := p.more('}'); err != nil {
				return err
			} else if !more {
				return nil
			}
		}
	case reflect.Interface:
		// Unions and documents: none of the operations berth serves take one.
		return p.skip(depth)
	default:
		return awsproto.SerializationError("%s: unsupported member type %s", path, t)
	}
	return nil
}

// named reports whether k is the name of member f of struct type t, as
// name does without building the name.
func (c Codec) named(t reflect.Type, f awsproto.Field, k string) bool {
	g := f.GoName
	if g == "" || g[0] >= utf8.RuneSelf || c.KeepCase || slices.Contains(c.KeepCaseOf, t) {
		return c.name(t, f) == k
	}
	lower := g[0]
	if 'A' <= lower && lower <= 'Z' {
		lower += 'a' - 'A'
	}
	return len(k) == len(g) && k[0] == lower && k[1:] == g[1:]
}

// key reads an object's member name and the colon after it.
func (p *parser) key() (string, error) {
	p.ws()
	if p.peek() != '"' {
		return "", p.syntax()
	}
	k, err := p.str(true)
	if err != nil {
		return "", err
	}
	return k, p.expect(':')
}
