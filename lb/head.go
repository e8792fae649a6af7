package lb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
)

// The lean path parses heads in place and takes only those whose meaning
// is beyond doubt: CRLF line ends, field names that are tokens, values
// without control characters, one Host, one Content-Length of digits, no
// Transfer-Encoding in a request. Anything else in a request is handed to
// net/http, which answers 400 (or 501 for a transfer coding it does not
// know) or serves a message it can frame unambiguously, and then sends it
// on with its own framing. A response head of that kind from a target is
// a 502, and its connection is closed: never relayed, never pooled.
// FuzzLeanParse holds the request side to net/http's reading.

// maxHead bounds the request and response heads the lean path parses; a
// larger request head goes to net/http, a larger response head is a 502.
const maxHead = 16 << 10

var (
	errNotLean  = errors.New("the request needs the full HTTP server")
	errHeadSize = errors.New("head too large")
	errBadHead  = errors.New("malformed head")
	// errFraming is a request with both Content-Length and
	// Transfer-Encoding: answered 400 and its connection closed, as RFC
	// 9112 6.1 allows and requires.
	errFraming = errors.New("both Content-Length and Transfer-Encoding")
)

// field is one header field of a head, pointing into a read buffer.
type field struct{ name, value []byte }

// head is a parsed request or response head. Its slices point into the
// read buffer it was parsed from and last until that buffer is read again.
type head struct {
	first   [3][]byte // method, target, version; or version, status code, reason
	fields  []field
	length  int64 // Content-Length; -1 when absent
	chunked bool  // Transfer-Encoding: chunked (responses only)
	close   bool  // Connection: close
	status  int   // of a response
}

var (
	crlf     = []byte("\r\n")
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
	lfcrlf   = []byte("\n\r\n")
)

// readHead returns the next complete head in br, without consuming it. A
// head that ends in bare LFs is errBadHead: RFC 9112 2.2 lets a recipient
// take a bare LF as a line end, which the lean path does not, so where
// such a head ends is net/http's to say (or the target's fault).
func readHead(br *bufio.Reader) ([]byte, error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, crlfcrlf); i >= 0 {
			return buf[:i+4], nil
		}
		if bytes.Contains(buf, lflf) || bytes.Contains(buf, lfcrlf) {
			return nil, errBadHead
		}
		if br.Buffered() >= maxHead {
			return nil, errHeadSize
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return nil, err
		}
	}
}

// parse reads a head's first line and fields. A request is parsed only
// as far as the lean path goes: anything else is errNotLean, or
// errBadHead when the head breaks RFC 9112.
func (h *head) parse(raw []byte, request bool) error {
	h.fields, h.length, h.chunked, h.close = h.fields[:0], -1, false, false
	line, rest, _ := bytes.Cut(raw[:len(raw)-4], crlf)
	var err error
	if request {
		err = h.parseRequestLine(line)
	} else {
		err = h.parseStatusLine(line)
	}
	if err != nil {
		return err
	}
	hosts, transferEncoding := 0, false
	var length []byte
	closing, keepAlive := false, false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, crlf)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return errBadHead // also an obsolete line fold (RFC 9112 5.2)
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !isToken(name) || !isFieldValue(value) {
			return errBadHead // bare CR or LF, NUL, a space before the colon
		}
		h.fields = append(h.fields, field{name, value})
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseLength(value)
			switch {
			case !ok:
				return errBadHead
			case length != nil && request:
				return errNotLean // net/http keeps one of equal values, refuses others
			case length != nil && !bytes.Equal(value, length):
				return errBadHead // RFC 9110 8.6
			}
			h.length, length = n, value
		case equalFold(name, "Transfer-Encoding"):
			if request {
				transferEncoding = true
				continue
			}
			if h.chunked || !equalFold(value, "chunked") {
				return errBadHead
			}
			h.chunked = true
		case equalFold(name, "Connection"):
			for opts := value; len(opts) > 0; {
				var opt []byte
				opt, opts, _ = bytes.Cut(opts, []byte(","))
				opt = trimOWS(opt)
				switch {
				case equalFold(opt, "close"):
					closing = true
				case equalFold(opt, "keep-alive"):
					keepAlive = true
				case equalFold(opt, "upgrade") && request:
					return errNotLean
				}
			}
		case !request:
		case equalFold(name, "Host"):
			hosts++
			if hosts > 1 || !isHost(value) {
				return errNotLean // net/http answers 400
			}
		case equalFold(name, "Expect"), equalFold(name, "Upgrade"):
			return errNotLean
		}
	}
	if closing { // whatever else the field says (RFC 9112 9.6)
		h.close = true
	} else if keepAlive { // an HTTP/1.0 target's persistent connection
		h.close = false
	}
	if request && transferEncoding {
		if length != nil {
			return errFraming
		}
		return errNotLean // net/http reads a chunked body
	}
	if request && hosts == 0 {
		return errNotLean // net/http answers 400
	}
	if h.chunked && (h.length >= 0 || h.first[0][len("HTTP/1.")] == '0') {
		return errBadHead // RFC 9112 6.1 and 6.3: the framing is in doubt
	}
	return nil
}

// parseRequestLine takes an origin-form HTTP/1.1 request line: method SP
// target SP version (RFC 9112 3).
func (h *head) parseRequestLine(line []byte) error {
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, version, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || !isToken(method) {
		return errBadHead
	}
	h.first = [3][]byte{method, target, version}
	if !bytes.Equal(version, []byte("HTTP/1.1")) || !isOriginForm(target) {
		return errNotLean
	}
	return nil
}

// parseStatusLine takes HTTP/1.x, a three-digit status code and a reason
// phrase, which a target may leave out (RFC 9112 4).
func (h *head) parseStatusLine(line []byte) error {
	version, rest, _ := bytes.Cut(line, []byte(" "))
	code, reason, _ := bytes.Cut(rest, []byte(" "))
	if len(version) != len("HTTP/1.x") || !bytes.HasPrefix(version, []byte("HTTP/1.")) || !isDigits(version[7:]) ||
		len(code) != 3 || !isDigits(code) || code[0] == '0' || !isFieldValue(reason) {
		return errBadHead
	}
	h.first = [3][]byte{version, code, reason}
	h.status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	h.close = version[7] == '0' // until a keep-alive says otherwise
	return nil
}

// get returns the first value of the named field.
func (h *head) get(name string) ([]byte, bool) {
	for _, f := range h.fields {
		if equalFold(f.name, name) {
			return f.value, true
		}
	}
	return nil, false
}

// Values implements rules.Headers.
func (h *head) Values(name string) []string {
	var out []string
	for _, f := range h.fields {
		if equalFold(f.name, name) {
			out = append(out, string(f.value))
		}
	}
	return out
}

// connectionListed reports whether the Connection field names a field,
// which makes it hop-by-hop.
func (h *head) connectionListed(name []byte) bool {
	for _, f := range h.fields {
		if !equalFold(f.name, "Connection") {
			continue
		}
		for opts := f.value; len(opts) > 0; {
			var opt []byte
			opt, opts, _ = bytes.Cut(opts, []byte(","))
			if bytes.EqualFold(trimOWS(opt), name) {
				return true
			}
		}
	}
	return false
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		x, y := b[i], s[i]
		if x != y && x|0x20 != y|0x20 {
			return false
		}
	}
	return true
}

// Byte classes of RFC 9110 and 9112.
const (
	tchar     = 1 << iota // of a token (5.6.2)
	fieldChar             // of a field value: VCHAR, obs-text, SP, HTAB (5.5)
	uriChar               // of a request target: VCHAR (RFC 3986 2)
	hostChar              // of a Host value, as net/http takes it
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 0x21 && c <= 0x7e:
			t[c] |= fieldChar | uriChar
		case c >= 0x80, c == ' ', c == '\t':
			t[c] |= fieldChar
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			t[c] |= tchar | hostChar
		}
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] |= tchar
	}
	for _, c := range []byte("!$%&'()*+,-.:;=[]_~") {
		t[c] |= hostChar
	}
	return t
}()

func isClass(b []byte, class uint8) bool {
	for _, c := range b {
		if byteClass[c]&class == 0 {
			return false
		}
	}
	return true
}

// isToken reports whether b is an RFC 9110 token, as methods and field
// names are.
func isToken(b []byte) bool { return len(b) > 0 && isClass(b, tchar) }

// isFieldValue reports whether b, without its surrounding white space,
// is a field value: no control characters but HTAB. It looks at eight
// bytes at a time, byte by byte only where one of them is below SP or
// is DEL (an HTAB, or a fault).
func isFieldValue(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; len(b) >= 8; b = b[8:] {
		x := binary.LittleEndian.Uint64(b)
		del := x ^ ones*0x7f
		if ((x-ones*' ')&^x|(del-ones)&^del)&highs != 0 && !isClass(b[:8], fieldChar) {
			return false
		}
	}
	return isClass(b, fieldChar)
}

func isHost(b []byte) bool { return isClass(b, hostChar) }

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isOriginForm reports whether a request target is an absolute path and
// query of visible characters, with well-formed percent escapes in the
// path, as net/url reads it (RFC 9112 3.2.1).
func isOriginForm(b []byte) bool {
	if len(b) == 0 || b[0] != '/' || !isClass(b, uriChar) {
		return false
	}
	path, _, _ := bytes.Cut(b, []byte("?"))
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && (i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2])) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

// parseLength reads a Content-Length: 1*DIGIT (RFC 9110 8.6), no sign,
// short enough not to overflow.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// trimOWS removes the optional white space around a field value (RFC
// 9110 5.6.3): spaces and horizontal tabs, nothing else.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
