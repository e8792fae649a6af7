package lb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLeanFraming sends raw requests through a listener, one connection
// kept alive across them, to check that bodies and framings come through
// the lean path (and the hand-over to net/http) whole.
func TestLeanFraming(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %d %x", r.Method, len(body), body[:min(len(body), 4)])
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			w.Write([]byte("first "))
			w.(http.Flusher).Flush()
			w.Write([]byte("second"))
			w.Header().Set("X-Sum", "2")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/head":
			w.Header().Set("Content-Length", "11")
		case "/eof": // an HTTP/1.0 answer whose body ends with the connection
			conn, brw, _ := w.(http.Hijacker).Hijack()
			brw.WriteString("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
			brw.Flush()
			conn.Close()
		default:
			fmt.Fprint(w, "hello")
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	p, _ := strconv.Atoi(u.Port())
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr)
	tg := TargetGroup{ARN: "tg", Targets: []Target{{ID: "127.0.0.1", Port: p, Host: "127.0.0.1"}}}
	h.apply(alb(addr, port, []Rule{{Action: forward("tg")}}, tg))

	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	exchange := func(req string, method string) (*http.Response, string) {
		t.Helper()
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%q: body: %v", req, err)
		}
		return resp, string(body)
	}

	big := bytes.Repeat([]byte{0xab}, 1<<20)
	if _, body := exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"+string(big), "POST"); body != "POST 1048576 abababab" {
		t.Errorf("a 1 MiB body arrived as %q", body)
	}
	resp, body := exchange("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if body != "first second" || resp.Trailer.Get("X-Sum") != "2" {
		t.Errorf("chunked answer %q, trailer %v", body, resp.Trailer)
	}
	if resp, body := exchange("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); resp.StatusCode != 204 || body != "" {
		t.Errorf("204 answered %d %q", resp.StatusCode, body)
	}
	if resp, body := exchange("HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD"); resp.ContentLength != 11 || body != "" {
		t.Errorf("HEAD answered length %d, body %q", resp.ContentLength, body)
	}
	// Two requests at once: the second waits in the buffer.
	io.WriteString(conn, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	for range 2 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
			t.Errorf("pipelined answer %q", b)
		}
	}
	// A chunked request body goes to net/http, which serves the
	// connection from then on.
	if _, body := exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", "POST"); body != "POST 4 61626364" {
		t.Errorf("chunked upload arrived as %q", body)
	}
	if _, body := exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET"); body != "hello" {
		t.Errorf("after the hand-over: %q", body)
	}

	// A body that ends with the target's connection ends the client's.
	c2, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "GET /eof HTTP/1.1\r\nHost: x\r\n\r\n")
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(c2)
	if !strings.HasPrefix(string(all), "HTTP/1.1 200 OK\r\n") || !strings.Contains(string(all), "Connection: close\r\n") || !strings.HasSuffix(string(all), "\r\n\r\nuntil the end") {
		t.Errorf("an answer until EOF came as %q", all)
	}
}

// TestLeanBadGateway: a target that answers garbage is a 502 with ALB's
// page, and the connection goes on.
func TestLeanBadGateway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "not http\r\n\r\n")
				c.Close()
			}()
		}
	}()
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr)
	tg := TargetGroup{ARN: "tg", Targets: []Target{{ID: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Host: "127.0.0.1"}}}
	h.apply(alb(addr, port, []Rule{{Action: forward("tg")}}, tg))
	for range 2 {
		code, body, header := get(t, fmt.Sprintf("http://%s:%d/", addr, port))
		if code != 502 || !strings.Contains(body, "502 Bad Gateway") || header.Get("Server") != serverHeader {
			t.Errorf("answered %d %q %v", code, body, header)
		}
	}
}
