package restxml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"berth/awsproto"
)

// Request is what an operation's input is decoded from.
type Request struct {
	Op     *Operation
	Labels map[string]string // the path labels Match returned
	Query  url.Values
	Header http.Header
	Body   []byte
	// Invalid is the service's error code for input that does not decode
	// (Route 53: InvalidInput).
	Invalid string
}

// Decode fills the SDK input struct v points to from the request. Values
// that do not parse as their member's type, malformed XML and bodies
// beyond awsproto's bounds are errors with the code r.Invalid.
func Decode(r Request, v any) error {
	rv := reflect.ValueOf(v).Elem()
	t := rv.Type()
	d := &decoder{invalid: r.Invalid}
	if r.Op.BodyRoot != "" && len(bytes.TrimSpace(r.Body)) > 0 {
		if err := d.body(rv, r.Op.Input, r.Body); err != nil {
			return err
		}
	}
	for _, f := range awsproto.Fields(t) {
		loc, ok := r.Op.Input[f.GoName]
		if !ok {
			continue
		}
		fv := rv.Field(f.Index)
		switch loc.In {
		case "uri":
			if s, ok := r.Labels[loc.Name]; ok {
				if err := d.scalar(fv, f.GoName, s); err != nil {
					return err
				}
			}
		case "querystring":
			vals, ok := r.Query[loc.Name]
			if !ok || len(vals) == 0 {
				continue
			}
			if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.Uint8 {
				if len(vals) > awsproto.MaxItems {
					return d.fail("%s: more than %d members", f.GoName, awsproto.MaxItems)
				}
				out := reflect.MakeSlice(fv.Type(), len(vals), len(vals))
				for i, s := range vals {
					if err := d.scalar(out.Index(i), f.GoName, s); err != nil {
						return err
					}
				}
				fv.Set(out)
				continue
			}
			if err := d.scalar(fv, f.GoName, vals[0]); err != nil {
				return err
			}
		case "header":
			if s := r.Header.Get(loc.Name); s != "" {
				if err := d.scalar(fv, f.GoName, s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type decoder struct {
	invalid string
	budget  awsproto.Budget
	dec     *xml.Decoder
	depth   int
}

func (d *decoder) fail(format string, args ...any) error {
	return awsproto.ClientError(d.invalid, format, args...)
}

// body decodes the XML body's root element into v, leaving the members
// bound elsewhere (locs) alone.
func (d *decoder) body(v reflect.Value, locs map[string]Location, body []byte) error {
	d.dec = xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.token()
		if err != nil {
			return d.fail("The XML document is malformed: %v", err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			if err := d.structure(v, start, locs); err != nil {
				return err
			}
			break
		}
	}
	// Nothing but whitespace, comments and processing instructions may follow.
	for {
		tok, err := d.token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return d.fail("The XML document is malformed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return d.fail("The XML document has more than one root element")
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) > 0 {
				return d.fail("The XML document has text after its root element")
			}
		}
	}
}

// token is the next token, counting nesting against MaxDepth.
func (d *decoder) token() (xml.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		d.depth++
		if d.depth > awsproto.MaxDepth {
			return nil, errors.New("nested too deep")
		}
	case xml.EndElement:
		d.depth--
	}
	return tok, nil
}

// element decodes the element that start opened into v.
func (d *decoder) element(v reflect.Value, start xml.StartElement, path string) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.element(p.Elem(), start, path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Struct && !awsproto.IsTime(t):
		if !d.budget.Charge(int(t.Size())) {
			return d.beyond()
		}
		return d.structure(v, start, nil)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		out := reflect.MakeSlice(t, 0, 0)
		for {
			tok, err := d.token()
			if err != nil {
				return d.fail("The XML document is malformed: %v", err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if out.Len() >= awsproto.MaxItems {
					return d.fail("%s: more than %d members", path, awsproto.MaxItems)
				}
				e := reflect.New(t.Elem()).Elem()
				if err := d.element(e, tok, path); err != nil {
					return err
				}
				out = reflect.Append(out, e)
			case xml.EndElement:
				v.Set(out)
				return nil
			}
		}
	}
	text, err := d.text()
	if err != nil {
		return err
	}
	if !d.budget.Charge(int(t.Size()) + len(text)) {
		return d.beyond()
	}
	return d.scalar(v, path, text)
}

func (d *decoder) beyond() error {
	return d.fail("the request body decodes to more than berth's bounds (%d values, %d MiB)", awsproto.MaxValues, awsproto.MaxDecodedBytes>>20)
}

// structure decodes the children of the element start opened into the
// struct v, by member name; members in skip are bound outside the body.
func (d *decoder) structure(v reflect.Value, _ xml.StartElement, skip map[string]Location) error {
	fields := map[string]awsproto.Field{}
	for _, f := range awsproto.Fields(v.Type()) {
		if _, bound := skip[f.GoName]; !bound {
			fields[f.GoName] = f
		}
	}
	for {
		tok, err := d.token()
		if err != nil {
			return d.fail("The XML document is malformed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			f, ok := fields[tok.Name.Local]
			if !ok {
				if err := d.skip(); err != nil {
					return err
				}
				continue
			}
			if err := d.element(v.Field(f.Index), tok, f.GoName); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the rest of an element the decoder does not know.
func (d *decoder) skip() error {
	for depth := 1; depth > 0; {
		tok, err := d.token()
		if err != nil {
			return d.fail("The XML document is malformed: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text is the character data of a simple element, up to its end.
func (d *decoder) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := d.token()
		if err != nil {
			return "", d.fail("The XML document is malformed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			b.Write(tok)
		case xml.StartElement:
			return "", d.fail("The element %s must hold text, not elements", tok.Name.Local)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// decimal is the form of a decimal number.
var decimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// scalar sets v from its text form s.
func (d *decoder) scalar(v reflect.Value, name, s string) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := d.scalar(p.Elem(), name, s); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	bad := func(want string) error {
		return d.fail("Value '%s' for %s is not a valid %s", s, name, want)
	}
	if awsproto.IsTime(t) {
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
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
		s = strings.TrimSpace(s)
		if s != "true" && s != "false" {
			return bad("boolean")
		}
		v.SetBool(s == "true")
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return bad("integer")
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		s = strings.TrimSpace(s)
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || !decimal.MatchString(s) && s != "NaN" && s != "Infinity" && s != "-Infinity" {
			return bad("number")
		}
		v.SetFloat(f)
	case reflect.Slice: // blob
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return bad("base64 blob")
		}
		v.SetBytes(b)
	default:
		return bad(t.Kind().String())
	}
	return nil
}
