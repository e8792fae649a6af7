package lb

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// Heads that a lenient parser and a strict one, or two parsers, read
// differently: each must be handed to net/http (requests) or refused
// (responses), never taken by the lean path.
var ambiguousRequests = []string{
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nGET /smuggled HTTP/1.1\nHost: x\r\n\r\n", // bare LF (RFC 9112 2.2)
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\rGET /smuggled HTTP/1.1\r\n\r\n",          // bare CR (RFC 9112 2.2)
	"GET / HTTP/1.1\nHost: x\n\n",                                                    // bare LF line ends throughout
	"GET / HTTP/1.1\r\nHost: x\n\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",         // a head ended by LF LF
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",                               // NUL (RFC 9110 5.5)
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n",                               // DEL
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",                              // obs-fold (RFC 9112 5.2)
	"GET / HTTP/1.1\r\nHost: x\r\n\tX-A: a\r\n\r\n",                                  // a fold after Host
	"GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n",                                   // space before the colon (RFC 9112 5.1)
	"GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n",                                   // a name that is no token
	"GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n",                                       // an empty name
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", // differing lengths (RFC 9110 8.6)
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", // equal lengths twice
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", // both (RFC 9112 6.3)
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", // chunked not final (RFC 9112 6.3)
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n", // a malformed chunk size
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;\x00\r\na\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", // two hosts (RFC 9112 3.2)
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n", // no host
	"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
	"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: \xc2\xa0v\xc2\x85\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: close, keep-alive\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
	"GET http://x/ HTTP/1.1\r\nHost: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\n\r\n",
	"GET /a?b=%zz&c=d HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
}

var ambiguousResponses = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 5\nX-A: 1\r\n\r\nhello",
	"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
	"HTTP/1.1 204\r\nConnection: keep-alive, close\r\n\r\n",
	"HTTP/1.1 200\r\n\r\n",
}

func TestHeadParse(t *testing.T) {
	for _, c := range []struct {
		raw string
		err error
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", nil},
		{"GET / HTTP/1.0\r\nHost: x\r\n\r\n", errNotLean},
		{"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", errNotLean},
		{"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", errNotLean},
		{"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", errNotLean},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", errNotLean},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", errBadHead},
		{"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", errBadHead},
		{"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", errBadHead},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nGET /smuggled HTTP/1.1\r\n\r\n", errBadHead},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", errNotLean},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", errBadHead},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", nil},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", errBadHead},
	} {
		var h head
		if err := h.parse([]byte(c.raw), !strings.HasPrefix(c.raw, "HTTP/")); err != c.err {
			t.Errorf("%q: %v, want %v", c.raw, err, c.err)
		}
	}
}

// FuzzLeanParse holds the lean parser to net/http's reading. Whatever
// request head the lean path takes, the listener's net/http server takes
// too, with the same method, target, fields and body framing; what the
// lean path does not take goes to net/http, so the two together decide
// as net/http alone does. Whatever response head it takes,
// http.ReadResponse takes with the same status and framing.
func FuzzLeanParse(f *testing.F) {
	f.Add([]byte(benchRequest))
	f.Add([]byte(benchResponse))
	f.Add([]byte("POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close, keep-alive\r\n\r\n"))
	for _, s := range ambiguousRequests {
		f.Add([]byte(s))
	}
	for _, s := range ambiguousResponses {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		raw, err := readHead(bufio.NewReaderSize(bytes.NewReader(in), maxHead))
		if err != nil {
			return // a head that does not end, or in bare LFs: never the lean path's
		}
		var h head
		if h.parse(raw, true) == nil {
			compareRequest(t, in, &h)
		}
		if h.parse(raw, false) == nil {
			compareResponse(t, in, &h)
		}
	})
}

// compareRequest checks a head the lean path took against the listener's
// net/http server: http.ReadRequest, then the server's own checks.
func compareRequest(t *testing.T, in []byte, h *head) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
	if err == nil {
		err = serverChecks(in)
	}
	if err != nil {
		t.Fatalf("lean takes %q, net/http refuses it: %v", in, err)
	}
	if req.Method != string(h.first[0]) || req.RequestURI != string(h.first[1]) || req.Proto != "HTTP/1.1" {
		t.Fatalf("%q: lean reads %q %q %q, net/http %q %q %q", in, h.first[0], h.first[1], h.first[2], req.Method, req.RequestURI, req.Proto)
	}
	host, _ := h.get("Host")
	if req.Host != string(host) {
		t.Fatalf("%q: lean reads host %q, net/http %q", in, host, req.Host)
	}
	want := leanHeader(h)
	delete(want, "Host") // net/http keeps it in req.Host
	if !reflect.DeepEqual(want, req.Header) {
		t.Fatalf("%q: lean reads fields %q, net/http %q", in, want, req.Header)
	}
	switch {
	case len(req.TransferEncoding) > 0:
		t.Fatalf("%q: lean takes a request net/http reads as chunked", in)
	case h.length < 0 && req.ContentLength != 0, h.length >= 0 && req.ContentLength != h.length:
		t.Fatalf("%q: lean reads length %d, net/http %d", in, h.length, req.ContentLength)
	case h.close != req.Close:
		t.Fatalf("%q: lean reads close %v, net/http %v", in, h.close, req.Close)
	}
}

// serverChecks are the net/http server's checks after http.ReadRequest
// (RFC 9112 3.2: one Host, of host characters; RFC 9110 5.1: field names
// are tokens). They are spelled out here from the RFCs, not taken from
// the lean parser.
func serverChecks(in []byte) error {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(in)))
	tp.ReadLine()
	fields, err := tp.ReadMIMEHeader()
	if err != nil {
		return err
	}
	if hosts := fields["Host"]; len(hosts) != 1 {
		return errBadHead
	} else if strings.ContainsFunc(hosts[0], func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!$%&'()*+,-.:;=[]_~", r))
	}) {
		return errBadHead
	}
	for name := range fields {
		if strings.ContainsRune(name, ' ') {
			return errBadHead
		}
	}
	return nil
}

// leanHeader is the lean head's fields as net/http keys them, with the
// Cache-Control that net/http adds for a Pragma: no-cache (RFC 9111 5.4).
func leanHeader(h *head) http.Header {
	out := http.Header{}
	for _, f := range h.fields {
		k := textproto.CanonicalMIMEHeaderKey(string(f.name))
		out[k] = append(out[k], string(f.value))
	}
	if p := out["Pragma"]; len(p) > 0 && p[0] == "no-cache" && out["Cache-Control"] == nil {
		out["Cache-Control"] = []string{"no-cache"}
	}
	return out
}

// compareResponse checks a response head the lean path relays against
// http.ReadResponse, as a client behind it reads it.
func compareResponse(t *testing.T, in []byte, h *head) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(in)), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("lean relays %q, net/http refuses it: %v", in, err)
	}
	if resp.StatusCode != h.status {
		t.Fatalf("%q: lean reads status %d, net/http %d", in, h.status, resp.StatusCode)
	}
	if h.status < 200 || h.status == 204 || h.status == 304 {
		return // no body, whatever the fields say (RFC 9112 6.3)
	}
	switch {
	case h.chunked != (len(resp.TransferEncoding) > 0):
		t.Fatalf("%q: lean reads chunked %v, net/http %q", in, h.chunked, resp.TransferEncoding)
	case !h.chunked && resp.ContentLength != h.length:
		t.Fatalf("%q: lean reads length %d, net/http %d", in, h.length, resp.ContentLength)
	case !h.chunked && h.length < 0: // until the connection closes
		if !resp.Close {
			t.Fatalf("%q: a body until EOF, net/http keeps the connection", in)
		}
	case h.close != resp.Close:
		t.Fatalf("%q: lean reads close %v, net/http %v", in, h.close, resp.Close)
	}
}

// TestFieldValueWords holds the eight-bytes-at-a-time check of field
// values to the byte-by-byte rule (RFC 9110 5.5): every byte value, at
// every offset of a word and of the tail.
func TestFieldValueWords(t *testing.T) {
	for c := range 256 {
		for pos := range 11 {
			b := []byte("abcdefghijk")
			b[pos] = byte(c)
			if got, want := isFieldValue(b), isClass(b, fieldChar); got != want {
				t.Fatalf("%q: %v, want %v", b, got, want)
			}
		}
	}
}
