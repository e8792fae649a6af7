package lb

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests drive a listener with raw bytes from a raw TCP client, in
// front of a raw TCP target that records what reaches it, to check that
// no request or response is ever read two ways.

// rawTarget is a fake target on a socket of its own. Each connection is
// served by answer until it returns false; everything the target reads
// is recorded. n counts the requests on a connection from 0.
type rawTarget struct {
	ln     net.Listener
	mu     sync.Mutex
	read   strings.Builder
	heads  []string // the request heads it read, as they came
	conns  int
	answer func(conn net.Conn, req *http.Request, n int) bool
}

func newRawTarget(t *testing.T, answer func(conn net.Conn, req *http.Request, n int) bool) *rawTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rt := &rawTarget{ln: ln, answer: answer}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			rt.mu.Lock()
			rt.conns++
			rt.mu.Unlock()
			go rt.serve(conn)
		}
	}()
	return rt
}

// recorder keeps what the target reads.
type recorder struct{ rt *rawTarget }

func (r recorder) Write(p []byte) (int, error) {
	r.rt.mu.Lock()
	r.rt.read.Write(p)
	r.rt.mu.Unlock()
	return len(p), nil
}

func (rt *rawTarget) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(io.TeeReader(conn, recorder{rt}))
	for n := 0; ; n++ {
		req, err := http.ReadRequest(br) // lenient as many servers are: bare LF ends a line
		if err != nil {
			return
		}
		rt.mu.Lock()
		rt.heads = append(rt.heads, req.Method+" "+req.RequestURI)
		rt.mu.Unlock()
		if !rt.answer(conn, req, n) {
			return
		}
	}
}

func (rt *rawTarget) target() Target {
	return Target{ID: "127.0.0.1", Port: rt.ln.Addr().(*net.TCPAddr).Port, Host: "127.0.0.1"}
}

func (rt *rawTarget) saw() (string, []string, int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.read.String(), append([]string(nil), rt.heads...), rt.conns
}

// echoPath answers each request with its method and path, after reading
// its body.
func echoPath(conn net.Conn, req *http.Request, _ int) bool {
	io.Copy(io.Discard, req.Body)
	body := req.Method + " " + req.URL.Path
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return true
}

// forget clears what the target read.
func (rt *rawTarget) forget() {
	rt.mu.Lock()
	rt.read.Reset()
	rt.heads = nil
	rt.mu.Unlock()
}

// behind puts rt behind a new HTTP listener and returns its address.
func behind(t *testing.T, rt *rawTarget) string {
	addr, _ := behindManager(t, rt)
	return addr
}

func behindManager(t *testing.T, rt *rawTarget) (string, *Manager) {
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr)
	h.apply(alb(addr, port, []Rule{{Action: forward("tg")}}, TargetGroup{ARN: "tg", Targets: []Target{rt.target()}}))
	return net.JoinHostPort(addr, strconv.Itoa(port)), h.m
}

// pooled counts the idle target connections of m's groups.
func pooled(m *Manager) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, g := range m.groups {
		for _, t := range g.members.Load().targets {
			t.upstream.mu.Lock()
			n += len(t.upstream.idle)
			t.upstream.mu.Unlock()
		}
	}
	return n
}

// rawClient is a client connection that writes raw bytes.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (c *rawClient) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads one response; its status is 0 when the connection ended
// before its end.
func (c *rawClient) answer(method string) (int, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return 0, err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// TestSmugglingRefused: a request head that parsers can read two ways is
// answered 400 (or 501) and never reaches the target; the next client,
// on its own connection, gets its own answer over the same pooled
// upstream connection.
func TestSmugglingRefused(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	addr := behind(t, rt)
	for _, c := range []struct {
		raw  string
		want int // 0: refused, with 400 or 501
	}{
		// The example: the bare LF ends the field line, and the
		// next line is no field (RFC 9112 2.2 and 5).
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nGET /smuggled HTTP/1.1\nHost: x\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\rGET /smuggled HTTP/1.1\r\n\r\n", 400}, // bare CR: invalid (RFC 9112 2.2)
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400},                    // NUL: reject or replace (RFC 9110 5.5)
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", 400},                    // DEL is no field-vchar (RFC 9110 5.5)
		{"GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n", 400},                        // space before the colon (RFC 9112 5.1: MUST 400)
		{"GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n", 400},                        // a name that is no token (RFC 9110 5.1)
		{"GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\n\tX-A: a\r\n\r\n", 400}, // a fold into Host makes it invalid (RFC 9112 5.2, 3.2)
		// Content-Length that is not 1*DIGIT, or twice with differing
		// values: a request's framing is invalid, 400 (RFC 9112 6.3 item 5).
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab", 400},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab", 400},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\nab", 400},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
		// A transfer coding the server does not know: 501 (RFC 9112
		// 6.1). Where chunked is not final, RFC 9112 6.3 item 4 asks for
		// 400; net/http answers 501. Either way it never goes on.
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 0},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400},
		// One Host, valid (RFC 9112 3.2: MUST 400).
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400},
		// An invalid request line (RFC 9112 3).
		{"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	} {
		rt.forget()
		a := dialRaw(t, addr)
		a.send(c.raw)
		code, body := a.answer("GET")
		if c.want != 0 && code != c.want || c.want == 0 && code != 400 && code != 501 {
			t.Errorf("%q: answered %d %q, want %d", c.raw, code, body, c.want)
		}
		b := dialRaw(t, addr)
		b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, body := b.answer("GET"); code != 200 || body != "GET /b" {
			t.Errorf("after %q the next client got %d %q", c.raw, code, body)
		}
		if read, heads, _ := rt.saw(); len(heads) != 1 || heads[0] != "GET /b" || strings.Contains(read, "smuggled") {
			t.Errorf("after %q the target read %q", c.raw, read)
		}
	}
}

// TestSmugglingNormalized: heads that RFC 9112 lets a server read one way
// and no other (bare LF line ends, 2.2; obs-fold replaced by SP, 5.2;
// equal Content-Length values, RFC 9110 8.6) go to the
// target with CRLF line ends, no fold, one framing.
func TestSmugglingNormalized(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	addr := behind(t, rt)
	for _, c := range []struct {
		raw     string
		answers []string // in order, to this client
		field   string   // that the target must read
	}{
		{"GET /lf HTTP/1.1\nHost: x\n\n", []string{"GET /lf"}, ""},
		// Two requests, both of this client's, answered in order.
		{"GET /a HTTP/1.1\r\nHost: x\n\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET /a", "GET /second"}, ""},
		{"GET /fold HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", []string{"GET /fold"}, "X-A: a b\r\n"},
		{"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", []string{"POST /cl"}, "Content-Length: 2\r\n"},
	} {
		rt.forget()
		a := dialRaw(t, addr)
		a.send(c.raw)
		for _, want := range c.answers {
			if code, body := a.answer("GET"); code != 200 || body != want {
				t.Errorf("%q: answered %d %q, want %q", c.raw, code, body, want)
			}
		}
		b := dialRaw(t, addr)
		b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, body := b.answer("GET"); code != 200 || body != "GET /b" {
			t.Errorf("after %q the next client got %d %q", c.raw, code, body)
		}
		read, _, _ := rt.saw()
		head, _, _ := strings.Cut(read, "\r\n\r\n")
		if strings.Count(read, "\n") != strings.Count(read, "\r\n") || strings.Contains(read, "\r\n ") ||
			strings.Contains(head, "Content-Length") && strings.Contains(head, "Transfer-Encoding") ||
			strings.Count(head, "Content-Length") > 1 || !strings.Contains(head, c.field) {
			t.Errorf("%q reached the target as %q", c.raw, read)
		}
	}
}

// TestTargetDesyncRefused: a response whose framing is in doubt is a 502
// (or, once its head has gone on, the end of the client's connection
// before the end of the body), on the lean path and on net/http's, and
// the target's connection is closed: what the target sent after it never
// reaches the next client as an answer (RFC 9112 6.3, 7.1).
func TestTargetDesyncRefused(t *testing.T) {
	const extra = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"
	bad := []struct {
		answer string
		want   int // to the client; 0: its connection ends before the end of the body
	}{
		{"HTTP/1.1 200 OK\nContent-Length: 0\n\n" + extra, 502},                                               // bare LF line ends
		{"HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n" + extra, 502},                                 // a bare LF in a field
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 47\r\n\r\n" + extra, 502},                   // differing lengths
		{"HTTP/1.1 200 OK\r\nContent-Length: 47\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + extra, 502}, // both framings
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\r\n" + extra, 0},               // a bare LF after a chunk size
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n" + extra, 0},               // chunk data without its CRLF
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n" + extra, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" + extra, 200}, // a second answer, unasked for
	}
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
		var i int
		if _, err := fmt.Sscanf(req.URL.Path, "/bad/%d", &i); err == nil {
			io.WriteString(conn, bad[i].answer)
			return true
		}
		return echoPath(conn, req, n)
	})
	addr := behind(t, rt)
	for i, c := range bad {
		for _, target := range []string{"/bad/" + strconv.Itoa(i), "http://x/bad/" + strconv.Itoa(i)} { // lean, net/http
			a := dialRaw(t, addr)
			a.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
			code, body := a.answer("GET")
			if code != c.want {
				t.Errorf("%s %q: the client got %d %q, want %d", target, c.answer, code, body, c.want)
			}
			b := dialRaw(t, addr)
			b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
			if code, body := b.answer("GET"); code != 200 || body != "GET /b" {
				t.Errorf("after %q the next client got %d %q", c.answer, code, body)
			}
		}
	}
}

// TestInterimResponses: interim answers (RFC 9110 15.2) are never taken
// for the final one. A POST with Expect: 100-continue (served by
// net/http) whose target answers 100 then 200 gets the 200, and the
// next client, on the same pooled target connection, gets its own
// answer. 103 Early Hints goes on to the client, on both paths, as a
// proxy must forward 1xx answers it did not ask for.
func TestInterimResponses(t *testing.T) {
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
		body, _ := io.ReadAll(req.Body)
		answer := req.Method + " " + req.URL.Path + " " + string(body)
		interim := ""
		if req.Header.Get("Expect") == "100-continue" {
			interim = "HTTP/1.1 100 Continue\r\n\r\n"
		}
		if req.URL.Path == "/hints" {
			interim = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
		}
		fmt.Fprintf(conn, "%sHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", interim, len(answer), answer)
		return true
	})
	addr, m := behindManager(t, rt)

	a := dialRaw(t, addr)
	a.send("POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	if code, _ := a.answer("POST"); code != 100 {
		t.Fatalf("the client's Expect: 100-continue got %d first", code)
	}
	a.send("hello")
	if code, body := a.answer("POST"); code != 200 || body != "POST /a hello" {
		t.Errorf("client A got %d %q", code, body)
	}
	eventually(t, "A's target connection back in the pool", func() bool { return pooled(m) == 1 })
	b := dialRaw(t, addr)
	b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	if code, body := b.answer("GET"); code != 200 || body != "GET /b " {
		t.Errorf("client B got %d %q", code, body)
	}

	for _, req := range []string{
		"GET /hints HTTP/1.1\r\nHost: x\r\n\r\n",         // the lean path
		"GET http://x/hints HTTP/1.1\r\nHost: x\r\n\r\n", // net/http
	} {
		eventually(t, "the target connection back in the pool", func() bool { return pooled(m) == 1 })
		c := dialRaw(t, addr)
		c.send(req)
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil || resp.StatusCode != 103 || resp.Header.Get("Link") != "</style.css>; rel=preload" {
			t.Errorf("%q: first answer %v %v", req, resp, err)
			continue
		}
		if code, body := c.answer("GET"); code != 200 || body != "GET /hints " {
			t.Errorf("%q: final answer %d %q", req, code, body)
		}
		c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, body := c.answer("GET"); code != 200 || body != "GET /b " {
			t.Errorf("%q: the next answer %d %q", req, code, body)
		}
	}
	if _, _, conns := rt.saw(); conns != 1 {
		t.Errorf("the target saw %d connections, want the one, reused", conns)
	}
}

// TestNoRetryOfUnsafeMethods: when a pooled connection fails after the
// request was written, only an idempotent request is sent again (RFC
// 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE); a POST, even
// without a body, is a 502 and reaches the target once.
func TestNoRetryOfUnsafeMethods(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
		if !strings.HasPrefix(req.URL.Path, "/drop") {
			return echoPath(conn, req, n)
		}
		mu.Lock()
		seen[req.Method+" "+req.URL.Path]++
		mu.Unlock()
		if n > 0 { // on a reused connection: read, then gone without an answer
			return false
		}
		return echoPath(conn, req, n)
	})
	addr := behind(t, rt)
	for _, c := range []struct {
		request     string
		method      string
		code, times int
	}{
		{"POST /drop/lean HTTP/1.1\r\nHost: x\r\n\r\n", "POST", 502, 1},
		{"POST http://x/drop/nethttp HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "POST", 502, 1},
		{"PATCH /drop/patch HTTP/1.1\r\nHost: x\r\n\r\n", "PATCH", 502, 1},
		{"DELETE /drop/lean HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE", 200, 2},
		{"GET http://x/drop/nethttp HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, 2},
	} {
		// The first request leaves its target connection in the pool
		// before the listener reads the next one.
		a := dialRaw(t, addr)
		a.send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, _ := a.answer("GET"); code != 200 {
			t.Fatalf("warm-up answered %d", code)
		}
		a.send(c.request)
		code, body := a.answer(c.method)
		_, target, _ := strings.Cut(strings.SplitN(c.request, " ", 3)[1], "//x")
		if target == "" {
			target = strings.SplitN(c.request, " ", 3)[1]
		}
		mu.Lock()
		times := seen[c.method+" "+target]
		mu.Unlock()
		if code != c.code || times != c.times {
			t.Errorf("%q: answered %d %q, the target saw it %d times; want %d, %d times", c.request, code, body, times, c.code, c.times)
		}
	}
}

// TestHeadLimits: ALB answers 400 to a request line over 16 K, a header
// over 16 K or a whole head over 64 K (Quotas for your Application Load
// Balancers, HTTP headers; Troubleshoot, HTTP 400), and sends on what is
// within them.
func TestHeadLimits(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	addr := behind(t, rt)
	big := func(n int) string { return strings.Repeat("a", n) }
	many := func(count, n int) string {
		var b strings.Builder
		for i := range count {
			fmt.Fprintf(&b, "X-%d: %s\r\n", i, big(n))
		}
		return b.String()
	}
	for _, c := range []struct {
		name, raw string
		want      int
	}{
		{"a 17 K request line", "GET /" + big(17<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"a 17 K header", "GET /h HTTP/1.1\r\nHost: x\r\nX-Big: " + big(17<<10) + "\r\n\r\n", 400},
		{"a 75 K head", "GET /h HTTP/1.1\r\nHost: x\r\n" + many(5, 15<<10) + "\r\n", 400},
		{"a 15 K request line", "GET /" + big(15<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"a 45 K head", "GET /h HTTP/1.1\r\nHost: x\r\n" + many(3, 15<<10) + "\r\n", 200},
	} {
		rt.forget()
		a := dialRaw(t, addr)
		a.send(c.raw)
		code, _ := a.answer("GET")
		_, heads, _ := rt.saw()
		if code != c.want || (c.want == 400) != (len(heads) == 0) {
			t.Errorf("%s: answered %d, the target saw %d requests; want %d", c.name, code, len(heads), c.want)
		}
	}
}

// TestTargetClosedWhileIdle: a target with a short keep-alive closes a
// pooled connection while it is idle. A request that must not be sent
// twice goes on a new connection, found out before anything is written
// to the closed one, and is answered; the target reads it once.
func TestTargetClosedWhileIdle(t *testing.T) {
	closed := make(chan struct{}, 1)
	var mu sync.Mutex
	seen := map[string]int{}
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
		mu.Lock()
		seen[req.Method+" "+req.URL.Path]++
		mu.Unlock()
		echoPath(conn, req, n)
		if req.URL.Path == "/warm" {
			conn.Close() // its keep-alive is over
			closed <- struct{}{}
			return false
		}
		return true
	})
	addr := behind(t, rt)
	for _, c := range []struct{ request, key string }{
		{"POST /pay HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "POST /pay"},
		{"POST /lean HTTP/1.1\r\nHost: x\r\n\r\n", "POST /lean"},
		{"POST http://x/nethttp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "POST /nethttp"},
	} {
		a := dialRaw(t, addr)
		a.send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, _ := a.answer("GET"); code != 200 {
			t.Fatalf("warm-up answered %d", code)
		}
		<-closed
		a.send(c.request)
		code, body := a.answer("POST")
		mu.Lock()
		times := seen[c.key]
		mu.Unlock()
		if code != 200 || body != c.key || times != 1 {
			t.Errorf("%q: answered %d %q, the target read it %d times; want 200, once", c.request, code, body, times)
		}
	}
}

// TestMalformedChunkedRequest: a chunked request body whose framing is
// broken (chunk-size is 1*HEXDIG, RFC 9112 7.1) is the client's fault:
// 400, not the 502 of a failing target, and the target's connection,
// which got part of it, is closed rather than given to the next client.
func TestMalformedChunkedRequest(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	addr := behind(t, rt)
	for _, body := range []string{"-1\r\n\r\n", "zz\r\nab\r\n0\r\n\r\n", "2\r\nabXX0\r\n\r\n"} {
		a := dialRaw(t, addr)
		a.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
		if code, text := a.answer("POST"); code != 400 {
			t.Errorf("%q: answered %d %q, want 400", body, code, text)
		}
		b := dialRaw(t, addr)
		b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, text := b.answer("GET"); code != 200 || text != "GET /b" {
			t.Errorf("after %q the next client got %d %q", body, code, text)
		}
	}
}

// TestFramingKept: what a hostile client or target does with the framing
// fields is refused or kept, never half-applied. Content-Length named by
// Connection stays (dropping it as hop-by-hop would leave its body to be
// read as the next request, RFC 9110 7.6.1 notwithstanding); a request
// with both Content-Length and Transfer-Encoding is answered 400 and its
// connection closed (RFC 9112 6.1); a response a target sends on an idle
// pooled connection reaches nobody.
func TestFramingKept(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	addr := behind(t, rt)
	for _, conn := range []string{"Content-Length", "close, Content-Length", "Host"} {
		rt.forget()
		a := dialRaw(t, addr)
		const body = "GET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n"
		a.send(fmt.Sprintf("POST /a HTTP/1.1\r\nHost: x\r\nConnection: %s\r\nContent-Length: %d\r\n\r\n%s", conn, len(body), body))
		if code, body := a.answer("POST"); code != 200 || body != "POST /a" {
			t.Errorf("Connection: %s: answered %d %q", conn, code, body)
		}
		if _, heads, _ := rt.saw(); len(heads) != 1 {
			t.Errorf("Connection: %s: the target read %v", conn, heads)
		}
	}

	rt.forget()
	a := dialRaw(t, addr)
	a.send("POST /te HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smug HTTP/1.1\r\nHost: x\r\n\r\n")
	if code, _ := a.answer("POST"); code != 400 {
		t.Errorf("Content-Length with Transfer-Encoding: answered %d, want 400", code)
	}
	if code, body := a.answer("GET"); code != 0 {
		t.Errorf("after Content-Length with Transfer-Encoding the connection served %d %q", code, body)
	}
	if _, heads, _ := rt.saw(); len(heads) != 0 {
		t.Errorf("the target read %v", heads)
	}

	// A target whose response names Content-Length in Connection keeps its
	// length; one that answers twice has its spare answer dropped.
	late := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
		switch req.URL.Path {
		case "/listed":
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Content-Length\r\nContent-Length: 2\r\n\r\nok")
		case "/twice":
			echoPath(conn, req, n)
			time.Sleep(50 * time.Millisecond)
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
		default:
			echoPath(conn, req, n)
		}
		return true
	})
	addr = behind(t, late)
	b := dialRaw(t, addr)
	b.send("GET /listed HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	if code, body := b.answer("GET"); code != 200 || body != "ok" {
		t.Errorf("Connection-listed Content-Length in a response: %d %q", code, body)
	}
	if code, body := b.answer("GET"); code != 200 || body != "GET /next" {
		t.Errorf("the request after it got %d %q", code, body)
	}
	c := dialRaw(t, addr)
	c.send("GET /twice HTTP/1.1\r\nHost: x\r\n\r\n")
	if code, body := c.answer("GET"); code != 200 || body != "GET /twice" {
		t.Fatalf("GET /twice: %d %q", code, body)
	}
	time.Sleep(200 * time.Millisecond) // the spare answer arrives on the idle connection
	for i := range 3 {
		d := dialRaw(t, addr)
		want := fmt.Sprintf("GET /c%d", i)
		d.send(want + " HTTP/1.1\r\nHost: x\r\n\r\n")
		if code, body := d.answer("GET"); code != 200 || body != want {
			t.Errorf("client %d got %d %q, want its own answer", i, code, body)
		}
	}
}

// TestRetryWhenTargetDies: a target dies with a pooled connection of the
// listener's open (a task killed): the next request written on it is
// reset, the target's address refuses a new connection, and the request,
// a GET, which may be sent again (RFC 9110 9.2.2), goes to another
// target, as Envoy retries a request whose connection failed on another
// endpoint; with no other target it is answered 502 (ALB's answer when
// the target cannot be reached: Troubleshoot your Application Load
// Balancers, HTTP 502). Either way the requests pipelined behind it on
// the client's connection are answered in turn, each once: the request
// tried on a second target is taken from the client's connection once.
// Both the lean path (origin-form) and net/http (absolute-form) serve
// them.
func TestRetryWhenTargetDies(t *testing.T) {
	for _, c := range []struct {
		name, prefix string
		other        bool
		want         int
	}{
		{"lean, another target", "", true, 200},
		{"lean, no other target", "", false, 502},
		{"net/http, another target", "http://x", true, 200},
		{"net/http, no other target", "http://x", false, 502},
	} {
		t.Run(c.name, func(t *testing.T) {
			var dead atomic.Bool
			victim := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
				if dead.Load() {
					conn.(*net.TCPConn).SetLinger(0) // reset: the task's process is gone
					return false
				}
				return echoPath(conn, req, n)
			})
			tg := TargetGroup{ARN: "tg", Targets: []Target{victim.target()}}
			if c.other {
				tg.Targets = append(tg.Targets, newRawTarget(t, echoPath).target())
			}
			h := newHarness(t)
			addr := loopback()
			port := freePort(t, addr)
			h.apply(alb(addr, port, []Rule{{Action: forward("tg")}}, tg))
			a := dialRaw(t, net.JoinHostPort(addr, strconv.Itoa(port)))
			// Round robin: the warm-up leaves a pooled connection to each
			// target.
			for range len(tg.Targets) {
				a.send("GET " + c.prefix + "/warm HTTP/1.1\r\nHost: x\r\n\r\n")
				if code, _ := a.answer("GET"); code != 200 {
					t.Fatalf("warm-up answered %d", code)
				}
			}
			dead.Store(true)
			victim.ln.Close()
			// One of two requests in a row goes to the victim; the
			// third stands behind them.
			paths := []string{"/1", "/2", "/3"}
			var raw string
			for _, p := range paths {
				raw += "GET " + c.prefix + p + " HTTP/1.1\r\nHost: x\r\n\r\n"
			}
			a.send(raw)
			a.conn.(*net.TCPConn).CloseWrite()
			for _, p := range paths {
				code, body := a.answer("GET")
				if code != c.want || c.want == 200 && body != "GET "+p {
					t.Fatalf("GET %s: answered %d %q; want %d", p, code, body, c.want)
				}
			}
		})
	}
}

// TestRequestTimeout: with a request timeout, a target that has not begun
// its response in time is answered 504, and one whose response stalls
// midway is cut short, on both request paths; Service Connect's proxy
// (Envoy) bounds a request so, perRequestTimeout.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html
func TestRequestTimeout(t *testing.T) {
	for _, prefix := range []string{"", "http://x"} { // the lean path, net/http's
		for _, c := range []struct {
			name string
			path string
			want int // 0: cut short
		}{
			{"no head", "/silent", 504},
			{"stalled body", "/half", 0},
		} {
			t.Run(fmt.Sprintf("%q %s", prefix, c.name), func(t *testing.T) {
				stuck := make(chan struct{})
				t.Cleanup(func() { close(stuck) })
				target := newRawTarget(t, func(conn net.Conn, req *http.Request, n int) bool {
					if req.URL.Path == "/half" {
						io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
					}
					<-stuck // until the test ends: only the timeout answers
					return false
				})
				tg := TargetGroup{ARN: "tg", RequestTimeout: 100 * time.Millisecond, Targets: []Target{target.target()}}
				h := newHarness(t)
				addr := loopback()
				port := freePort(t, addr)
				h.apply(alb(addr, port, []Rule{{Action: forward("tg")}}, tg))
				a := dialRaw(t, net.JoinHostPort(addr, strconv.Itoa(port)))
				a.send("GET " + prefix + c.path + " HTTP/1.1\r\nHost: x\r\n\r\n")
				if code, body := a.answer("GET"); code != c.want {
					t.Fatalf("GET %s answered %d %q; want %d", c.path, code, body, c.want)
				}
			})
		}
	}
}
