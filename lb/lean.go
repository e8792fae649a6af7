package lb

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"berth/lb/balance"
	"berth/lb/rules"
)

// The lean HTTP/1.1 path serves the requests of plain HTTP listeners that
// a forward action sends to a target group without stickiness: the
// common case, and the one throughput depends on. Profiles of the
// net/http server on this path showed as much CPU spent per request in
// its machinery (a header map per request and per response, canonical
// names, a background read goroutine, context and deadline set-up) as in
// the system calls themselves. Here a connection's requests are parsed
// in place in its read buffer, the outgoing head is written straight into
// the target connection's buffer, and the response head and body are
// relayed as they come, framing kept.
//
// A connection whose request the lean path does not take (any other
// action, stickiness, an upgrade, Expect, a chunked request body,
// HTTP/1.0, an unusual head) is handed whole, with what was read of it,
// to the listener's net/http server, which serves it from then on.

// isHop reports whether a field is hop-by-hop: one of RFC 9110's, or
// named by the Connection field.
func isHop(h *head, name []byte) bool {
	for _, hop := range hopHeaders {
		if equalFold(name, hop) {
			return true
		}
	}
	// Content-Length and Host stay whatever Connection lists: RFC 9110
	// 7.6.1 lets a proxy drop the fields Connection names, but dropping
	// these would change where the message ends, or whom it is for.
	if equalFold(name, "Content-Length") || equalFold(name, "Host") {
		return false
	}
	return h.connectionListed(name)
}

// leanConn is one client connection on the lean path.
type leanConn struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	peer netip.AddrPort
	ip   string // the peer's address, as X-Forwarded-For carries it
	busy atomic.Bool
	req  head
	resp head
}

// leanConns are a listener's lean connections, for closing them.
type leanConns struct {
	mu      sync.Mutex
	conns   map[*leanConn]struct{}
	closing atomic.Bool
	wg      sync.WaitGroup
}

// idle marks c between requests and reports whether it may wait for the
// next one: not when the listener is closing.
func (s *leanConns) idle(c *leanConn) bool {
	c.busy.Store(false)
	return !s.closing.Load()
}

// shutdown closes the idle connections at once and the others when their
// request ends, or after drain.
func (s *leanConns) shutdown(drain time.Duration) {
	s.closing.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		if !c.busy.Load() {
			c.conn.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drain):
	}
	s.mu.Lock()
	for c := range s.conns {
		c.conn.Close()
	}
	s.mu.Unlock()
}

// handoff is the net/http server's listener: it yields the connections
// that the lean path hands over.
type handoff struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error   { h.once.Do(func() { close(h.done) }); return nil }
func (h *handoff) Addr() net.Addr { return h.addr }

func (h *handoff) give(c net.Conn) {
	select {
	case h.conns <- c:
	case <-h.done:
		c.Close()
	}
}

// handedConn is a connection handed over with bytes already buffered.
type handedConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// serveLean accepts the connections of a plain HTTP listener.
func (h *httpListener) serveLean(ln net.Listener, conns *leanConns, to *handoff) {
	h.m.accept(ln, "HTTP connection", func(conn net.Conn) {
		c := &leanConn{conn: conn, br: bufio.NewReaderSize(conn, maxHead), bw: bufio.NewWriterSize(conn, 4<<10)}
		c.peer, _ = netip.ParseAddrPort(conn.RemoteAddr().String())
		c.ip = c.peer.Addr().Unmap().String()
		conns.mu.Lock()
		if conns.closing.Load() {
			conns.mu.Unlock()
			conn.Close()
			return
		}
		conns.conns[c] = struct{}{}
		conns.wg.Add(1)
		conns.mu.Unlock()
		defer conns.wg.Done()
		handed := false
		defer func() { // also after a panic, which accept contains
			conns.mu.Lock()
			delete(conns.conns, c)
			conns.mu.Unlock()
			if handed {
				to.give(&handedConn{Conn: conn, br: c.br})
			} else {
				conn.Close()
			}
		}()
		handed = h.serveConn(c, conns)
	})
}

// outcome is what became of a request on the lean path.
type outcome int

const (
	served   outcome = iota // the connection can serve another request
	finished                // the connection must close
	handOver                // the full server must serve it, from this request on
)

// serveConn serves a connection's requests until it ends or needs the
// full server; it reports the latter.
func (h *httpListener) serveConn(c *leanConn, conns *leanConns) bool {
	for {
		c.conn.SetReadDeadline(time.Now().Add(h.l.routes.Load().lb.idleTimeout()))
		raw, err := readHead(c.br)
		if err != nil {
			return err == errHeadSize || err == errBadHead // net/http answers 431, or 400, or reads it
		}
		c.busy.Store(true)
		if err := c.req.parse(raw, true); err == errFraming {
			c.req.close = true
			rt := h.l.routes.Load()
			leanError(c, &rt.listener.Headers, http.StatusBadRequest, 0)
			rt.stats.answered(http.StatusBadRequest)
			return false
		} else if err != nil {
			return true // net/http serves it, or answers 400
		}
		switch h.serveRequest(c, len(raw)) {
		case handOver:
			return true
		case finished:
			return false
		}
		if c.req.close || !conns.idle(c) {
			return false
		}
	}
}

// serveRequest serves the parsed request c.req, whose head is the first
// n bytes of c's buffer. A request handed over is left unconsumed.
func (h *httpListener) serveRequest(c *leanConn, n int) outcome {
	rt := h.l.routes.Load()
	r := &c.req
	target := r.first[1]
	rawPath, rawQuery, _ := bytes.Cut(target, []byte("?"))
	path := string(rawPath)
	if bytes.IndexByte(rawPath, '%') >= 0 {
		var err error
		if path, err = url.PathUnescape(path); err != nil {
			return handOver
		}
	}
	host, ok := r.get("Host")
	if !ok {
		return handOver // net/http answers 400
	}
	req := rules.Request{Method: string(r.first[0]), Host: string(host), Path: path, RawQuery: string(rawQuery), Header: r, Peer: c.peer.Addr()}
	var rule *compiledRule
	for i := range rt.rules {
		if rules.MatchAll(rt.rules[i].Conditions, req) {
			rule = &rt.rules[i]
			break
		}
	}
	if rule == nil || rule.Action.Type != "forward" || rule.Action.Forward.Stickiness > 0 && len(rule.groups) > 1 {
		return handOver
	}
	wg := rule.pick()
	if wg != nil && wg.g.cfg.Load().Stickiness.Type != "" {
		return handOver
	}
	var e accessEntry
	logged := h.m.log.Debug().Enabled()
	if logged {
		e = accessEntry{client: c.peer.String(), request: string(r.first[0]) + " " + string(target) + " HTTP/1.1",
			host: req.Host, start: time.Now()}
		if ua, ok := r.get("User-Agent"); ok {
			e.agent = string(ua)
		}
	}
	status, addr, trace, alive := h.leanForward(c, n, rt, wg, req.Host)
	if logged {
		e.status, e.target, e.trace = status, addr, trace
		h.accessLog(rt, rule, e)
	}
	if !alive {
		return finished
	}
	return served
}

// leanForward forwards c's request to a target of g and relays the
// answer. It returns the status sent, the target, the trace id and
// whether the connection can go on.
func (h *httpListener) leanForward(c *leanConn, n int, rt *routes, wg *weighted, host string) (int, string, string, bool) {
	r := &c.req
	bodyLen := max(r.length, 0)
	if wg == nil {
		c.br.Discard(n)
		rt.stats.answered(http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable, "", "", leanError(c, &rt.listener.Headers, http.StatusServiceUnavailable, bodyLen)
	}
	g := wg.g
	mem, bal := g.members.Load(), g.balancer.Load()
	available := balance.Available(mem.balance)
	outlier := g.cfg.Load().Outlier
	if outlier != nil {
		available = balance.Unejected(available, h.m.now())
	}
	trace := leanTrace(r)
	// consumed says whether the request's head has left c's buffer: a
	// target tried before may have taken it, and died, before the
	// request came to this one.
	consumed := false
	var tried []*balance.Target
	for {
		bt := bal.Pick(available, tried...)
		if bt == nil {
			status := http.StatusServiceUnavailable
			if len(tried) > 0 {
				status = http.StatusBadGateway
			}
			if !consumed {
				c.br.Discard(n)
			}
			rt.stats.answered(status)
			return status, "", trace, leanError(c, &rt.listener.Headers, status, bodyLen)
		}
		if len(tried) == 0 {
			wg.stats.chosen() // once, however many targets it takes
		}
		t := mem.byKey[bt.Key]
		status, alive, err := h.leanExchange(c, n, &consumed, rt, wg.stats, t, g.cfg.Load().RequestTimeout, host, trace)
		if outlier != nil && bt.Outcome(outlier, err != nil || status >= 500, h.m.now()) {
			h.m.log.Info().Str("target_group", g.arn).Str("target", bt.Key).Dur("for", outlier.Ejection).Msg("outlier ejected")
		}
		if err != nil && isDialError(err) {
			wg.stats.connectFailed()
			tried = append(tried, bt)
			continue
		}
		return status, t.Addr, trace, alive
	}
}

// leanTrace is the X-Amzn-Trace-Id the target gets.
func leanTrace(r *head) string {
	prior, _ := r.get("X-Amzn-Trace-Id")
	return traceID(string(prior))
}

// leanError answers with one of ALB's error pages after skipping the
// request's body; it reports whether the connection can go on.
func leanError(c *leanConn, hd *Headers, status int, bodyLen int64) bool {
	if _, err := c.br.Discard(int(bodyLen)); err != nil {
		return false
	}
	body := errorBody(status)
	c.bw.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + statusText(status) + "\r\n")
	hd.writeServer(c.bw)
	c.bw.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\nContent-Type: text/html\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n")
	if c.req.close {
		c.bw.WriteString("Connection: close\r\n")
	}
	hd.writeResponse(c.bw)
	c.bw.WriteString("\r\n" + body)
	return c.bw.Flush() == nil && !c.req.close
}

// leanExchange sends the request to t and relays the answer. The
// request's head is the first n bytes of c's buffer until *consumed,
// which leanExchange sets when it takes them: once per request, however
// many targets it is tried on. A dial error means the request may go to
// another target: t could not be reached, or took a request without a
// body on a pooled connection and was then gone; the head stays where it
// was in the buffer (nothing reads from the client meanwhile) for the
// next target. Otherwise the request has been consumed and answered, and
// alive says whether the connection can go on.
func (h *httpListener) leanExchange(c *leanConn, n int, consumed *bool, rt *routes, ps *pairStats, t *target, timeout time.Duration, host, trace string) (status int, alive bool, err error) {
	end := t.Begin()
	defer end()
	r := &c.req
	bodyLen := max(r.length, 0)
	fresh := false
	for {
		uc, reused, err := t.upstream.get(t.ctx, fresh, rt.stats)
		if err != nil {
			return 0, false, dialError{err} // nothing was sent
		}
		left := time.Now() // when the request leaves for the target
		wait := waits{idle: rt.lb.idleTimeout()}
		if timeout > 0 {
			wait.until = left.Add(timeout)
		}
		uc.SetDeadline(wait.deadline())
		writeLeanHead(uc.bw, c, rt, host, trace)
		if !*consumed {
			c.br.Discard(n) // the head is still in the buffer for a retry: nothing has read since
			*consumed = true
		}
		if bodyLen > 0 {
			if _, err := io.CopyN(uc.bw, c.br, bodyLen); err != nil {
				t.upstream.discard(uc)
				return 0, false, err
			}
		}
		err = uc.bw.Flush()
		var raw []byte
		for err == nil {
			if raw, err = readHead(uc.br); err == nil {
				err = c.resp.parse(raw, false)
			}
			if err != nil || c.resp.status >= 200 {
				break
			}
			if c.resp.status == http.StatusSwitchingProtocols {
				err = errBadHead // the request asked for no upgrade
				break
			}
			// An interim answer (103 Early Hints) goes on as it is.
			c.bw.Write(raw)
			uc.br.Discard(len(raw))
			err = c.bw.Flush()
		}
		if err != nil {
			t.upstream.discard(uc)
			// A pooled connection the target closed while idle fails
			// like one on which the target took the request and died:
			// only a request that may be sent twice is sent again.
			if reused && bodyLen == 0 && idempotent(r.first[0]) && !isTimeout(err) {
				fresh = true
				continue
			}
			status := http.StatusBadGateway
			if isTimeout(err) {
				status = http.StatusGatewayTimeout
			}
			rt.stats.answered(status)
			return status, leanError(c, &rt.listener.Headers, status, 0), err
		}
		ps.responded(c.resp.status, time.Since(left))
		status, alive := relayResponse(c, &rt.listener.Headers, uc, raw, r.first[0], wait)
		if alive.upstream {
			t.upstream.put(uc)
		} else {
			t.upstream.discard(uc)
		}
		return status, alive.client, nil
	}
}

// writeLeanHead writes the request head as the target gets it, with the
// headers ALB adds: see outgoing for the rules.
func writeLeanHead(w *bufio.Writer, c *leanConn, rt *routes, host, trace string) {
	r := &c.req
	w.Write(r.first[0])
	w.WriteByte(' ')
	w.Write(r.first[1])
	w.WriteString(" HTTP/1.1\r\n")
	lb := rt.lb
	var xff [][]byte
	for _, f := range r.fields {
		switch {
		case isHop(r, f.name):
			continue
		case equalFold(f.name, "X-Forwarded-For"):
			if lb.XFFMode == "" || lb.XFFMode == "append" {
				xff = append(xff, f.value)
				continue
			}
			if lb.XFFMode == "remove" {
				continue
			}
		case equalFold(f.name, "X-Forwarded-Proto"), equalFold(f.name, "X-Forwarded-Port"):
			if lb.XFFMode != "remove" {
				continue
			}
		case equalFold(f.name, "X-Amzn-Trace-Id"):
			continue
		case equalFold(f.name, "Host"):
			if !lb.PreserveHost {
				continue
			}
		case lb.DropInvalidHeaders && !validHeaderName(string(f.name)):
			continue
		}
		writeField(w, f)
	}
	if !lb.PreserveHost {
		w.WriteString("Host: ")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		w.WriteString(host)
		if rt.listener.Port != 80 {
			w.WriteByte(':')
			w.WriteString(strconv.Itoa(rt.listener.Port))
		}
		w.WriteString("\r\n")
	}
	if lb.XFFMode == "" || lb.XFFMode == "append" {
		w.WriteString("X-Forwarded-For: ")
		for _, v := range xff {
			w.Write(v)
			w.WriteString(", ")
		}
		w.WriteString(c.ip)
		w.WriteString("\r\n")
	}
	if lb.XFFMode != "remove" {
		w.WriteString("X-Forwarded-Proto: http\r\nX-Forwarded-Port: ")
		w.WriteString(strconv.Itoa(rt.listener.Port))
		w.WriteString("\r\n")
	}
	w.WriteString("X-Amzn-Trace-Id: ")
	w.WriteString(trace)
	w.WriteString("\r\n\r\n")
}

func writeField(w *bufio.Writer, f field) {
	w.Write(f.name)
	w.WriteString(": ")
	w.Write(f.value)
	w.WriteString("\r\n")
}

// alive says which connections can serve again after an exchange.
type alive struct{ client, upstream bool }

// relayResponse writes the response head (hop-by-hop fields removed) and
// relays the body with its framing. A body of unknown length ends with
// the target's connection, and so then does the client's.
func relayResponse(c *leanConn, hd *Headers, uc *upConn, raw, method []byte, wait waits) (int, alive) {
	resp := &c.resp
	w := c.bw
	w.Write(resp.first[0][:len("HTTP/1.")])
	w.WriteString("1 ")
	w.Write(resp.first[1])
	w.WriteByte(' ')
	w.Write(resp.first[2])
	w.WriteString("\r\n")
	bodyless := bytes.Equal(method, []byte("HEAD")) || resp.status < 200 || resp.status == 204 || resp.status == 304
	untilEOF := !bodyless && !resp.chunked && resp.length < 0
	for _, f := range resp.fields {
		if isHop(resp, f.name) && !(resp.chunked && equalFold(f.name, "Transfer-Encoding")) || hd.replaces(f.name) {
			continue
		}
		writeField(w, f)
	}
	if resp.status >= 200 {
		hd.writeResponse(w)
	}
	clientAlive := !c.req.close && !untilEOF
	if !clientAlive {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	uc.br.Discard(len(raw))
	ok := true
	switch {
	case bodyless:
	case resp.chunked:
		ok = relayChunked(w, uc, wait)
	case resp.length >= 0:
		ok = relayN(w, uc, resp.length, wait)
	default:
		relayN(w, uc, -1, wait)
		ok = false
	}
	if w.Flush() != nil {
		return resp.status, alive{}
	}
	// A target that sent more than its response cannot be trusted with
	// the next request: what it sent would be read as the next answer.
	return resp.status, alive{client: ok && clientAlive, upstream: ok && !resp.close && uc.br.Buffered() == 0}
}

// relayN copies n bytes (all until EOF when n < 0) from the target to the
// client, flushing what it has whenever the target has sent nothing more,
// so that a stream reaches the client as it comes.
func relayN(w *bufio.Writer, uc *upConn, n int64, wait waits) bool {
	for n != 0 {
		if uc.br.Buffered() == 0 {
			if w.Flush() != nil {
				return false
			}
			uc.SetReadDeadline(wait.deadline())
			if _, err := uc.br.Peek(1); err != nil {
				return n < 0 && err == io.EOF
			}
		}
		k := uc.br.Buffered()
		if n > 0 {
			k = int(min(int64(k), n))
			n -= int64(k)
		}
		buf, _ := uc.br.Peek(k)
		if _, err := w.Write(buf); err != nil {
			return false
		}
		uc.br.Discard(k)
	}
	return true
}

// relayChunked copies a chunked body, chunk by chunk, its trailer
// included, as it is. Any fault in its framing (RFC 9112 7.1) ends the
// relay, and so the target's connection: what follows a fault cannot be
// told from the next response.
func relayChunked(w *bufio.Writer, uc *upConn, wait waits) bool {
	for {
		line, ok := relayLine(w, uc, wait)
		if !ok {
			return false
		}
		size, ok := chunkSize(line)
		if !ok {
			return false
		}
		if size == 0 {
			break
		}
		if !relayN(w, uc, size, wait) {
			return false
		}
		if end, ok := relayLine(w, uc, wait); !ok || len(end) > 0 { // the data's CRLF
			return false
		}
	}
	for { // the trailer: fields, then an empty line
		line, ok := relayLine(w, uc, wait)
		if !ok {
			return false
		}
		if len(line) == 0 {
			return true
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || !isToken(line[:colon]) || !isFieldValue(line[colon+1:]) {
			return false
		}
	}
}

// chunkSize reads a chunk-size line: hex digits, then perhaps extensions
// after a ";" (RFC 9112 7.1.1).
func chunkSize(line []byte) (int64, bool) {
	hex, ext, _ := bytes.Cut(line, []byte(";"))
	hex = bytes.TrimRight(hex, " \t")
	if len(hex) == 0 || len(hex) > 15 || !isFieldValue(ext) {
		return 0, false
	}
	var n int64
	for _, c := range hex {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			n = n<<4 | int64(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// relayLine copies one CRLF-ended line and returns it without its end.
// A line with a bare CR or LF is a fault.
func relayLine(w *bufio.Writer, uc *upConn, wait waits) ([]byte, bool) {
	if uc.br.Buffered() == 0 {
		if w.Flush() != nil {
			return nil, false
		}
		uc.SetReadDeadline(wait.deadline())
	}
	line, err := uc.br.ReadSlice('\n')
	if err != nil || len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, false
	}
	line = line[:len(line)-2]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, false
	}
	if _, err := w.Write(line); err != nil {
		return nil, false
	}
	w.Write(crlf)
	return line, true
}
