package lb

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"berth/lb/balance"
	"berth/lb/rules"
)

type atomicRoutes = atomic.Pointer[routes]

// serveHTTP serves an HTTP listener on ln, or an HTTPS one when tc is
// set, and returns its close function.
func (m *Manager) serveHTTP(l *listener, ln net.Listener, tc *tls.Config) func(time.Duration) <-chan struct{} {
	h := &httpListener{m: m, l: l}
	ln = m.counted(l, ln)
	// No timeout of net/http's own: a connection's idle timeout is the
	// load balancer's, read when the connection turns idle.
	idle := &idleConns{timeout: func() time.Duration { return l.routes.Load().lb.idleTimeout() }, timers: map[net.Conn]*time.Timer{}}
	srv := &http.Server{Handler: m.containHTTP(idle.busy(h)), TLSConfig: tc, ConnState: idle.track,
		ConnContext: withConn, ErrorLog: log.New(io.Discard, "", 0)}
	if tc != nil {
		ln = &closeOnce{Listener: ln}
		go srv.ServeTLS(ln, "", "")
		return func(drain time.Duration) <-chan struct{} {
			ln.Close()
			return inBackground(func() { shutdown(context.Background(), drain, srv.Shutdown, srv.Close) })
		}
	}
	// Plain HTTP: the lean path first, net/http for what it hands over.
	to := &handoff{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	conns := &leanConns{conns: map[*leanConn]struct{}{}}
	go srv.Serve(to)
	go h.serveLean(ln, conns, to)
	return func(drain time.Duration) <-chan struct{} {
		ln.Close()
		return inBackground(func() {
			lean := inBackground(func() { conns.shutdown(drain) })
			shutdown(context.Background(), drain, srv.Shutdown, srv.Close)
			<-lean
		})
	}
}

// containHTTP stops a panic in next from ending the process: net/http
// would recover it too, but silently; this logs and counts it, then has
// net/http drop the connection.
func (m *Manager) containHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					m.contained("HTTP request", v)
				}
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpListener routes the requests of one ALB listener.
type httpListener struct {
	m *Manager
	l *listener
}

// ALB's own responses carry this Server header.
const serverHeader = "awselb/2.0"

func (h *httpListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := h.l.routes.Load()
	if headTooLarge(r) {
		w.Header().Set("Connection", "close")
		errorPage(w, http.StatusBadRequest)
		rt.stats.answered(http.StatusBadRequest)
		return
	}
	w = rt.listener.Headers.modify(w)
	var start time.Time
	logged := h.m.log.Debug().Enabled()
	if logged {
		start = time.Now()
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	req := rules.FromHTTP(r, peer.Addr())
	for i := range rt.rules {
		rule := &rt.rules[i]
		if !rules.MatchAll(rule.Conditions, req) {
			continue
		}
		if logged {
			// Read before forwarding changes the headers.
			e := accessEntry{client: r.RemoteAddr, request: r.Method + " " + r.URL.RequestURI() + " " + r.Proto,
				agent: r.UserAgent(), host: r.Host, start: start}
			e.status, e.target = h.act(w, r, rt, rule, peer)
			e.trace = r.Header.Get("X-Amzn-Trace-Id")
			h.accessLog(rt, rule, e)
			return
		}
		h.act(w, r, rt, rule, peer)
		return
	}
	errorPage(w, http.StatusNotFound) // a listener always has a default rule; this is a safety net
	rt.stats.answered(http.StatusNotFound)
}

// ALB's limits on a request head: larger ones are answered 400.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html#http-headers-quotas
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-400-issues
const (
	maxRequestLine = 16 << 10
	maxHeaderLine  = 16 << 10
	maxRequestHead = 64 << 10
)

// headTooLarge reports whether a request head passes one of ALB's
// limits, its lines counted as they came, with their CRLF. (The lean
// path takes only heads smaller than each limit.)
func headTooLarge(r *http.Request) bool {
	line := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 2
	if line > maxRequestLine {
		return true
	}
	total := line + 2 + len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			n := len(name) + len(": ") + len(v)
			if n > maxHeaderLine {
				return true
			}
			total += n + 2
		}
	}
	return total+2 > maxRequestHead
}

// accessEntry is what an access log line says of one request.
type accessEntry struct {
	client, target, request, agent, trace, host string
	status                                      int
	start                                       time.Time
}

// accessLog logs a request with the fields of an ALB access log entry.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
func (h *httpListener) accessLog(rt *routes, rule *compiledRule, e accessEntry) {
	h.m.log.Debug().Str("type", strings.ToLower(rt.listener.Protocol)).Time("time", e.start).Str("elb", rt.lb.Name).
		Str("client:port", e.client).Str("target:port", e.target).Int("elb_status_code", e.status).
		Str("request", e.request).Str("user_agent", e.agent).Str("trace_id", e.trace).
		Str("domain_name", e.host).Str("matched_rule", rule.ARN).Str("actions_executed", rule.Action.Type).
		Dur("request_processing_time", time.Since(e.start)).Msg("access")
}

// act runs a rule's action and returns the status sent and the target
// that served the request, if any.
func (h *httpListener) act(w http.ResponseWriter, r *http.Request, rt *routes, rule *compiledRule, peer netip.AddrPort) (int, string) {
	a := rule.Action
	switch a.Type {
	case "forward":
		return h.forward(w, r, rt, rule, peer)
	case "redirect":
		status := redirect(w, r, rt.listener, a.Redirect)
		if rt.stats != nil {
			rt.stats.redirect.Add(1)
			rt.stats.answered(status)
		}
		return status, ""
	case "fixed-response":
		f := a.Fixed
		if f.ContentType != "" {
			w.Header().Set("Content-Type", f.ContentType)
		}
		w.Header().Set("Server", serverHeader)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		w.WriteHeader(f.StatusCode)
		io.WriteString(w, f.Body)
		if rt.stats != nil {
			rt.stats.fixed.Add(1)
			rt.stats.answered(f.StatusCode)
		}
		return f.StatusCode, ""
	}
	// authenticate-oidc, authenticate-cognito, jwt-validation: berth has
	// no identity provider to send the user to.
	w.Header().Set("Server", serverHeader)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotImplemented)
	fmt.Fprintf(w, "berth does not serve %s actions\n", a.Type)
	rt.stats.answered(http.StatusNotImplemented)
	return http.StatusNotImplemented, ""
}

// redirect answers with the redirect action's Location: each part is the
// request's unless the action sets it, and #{...} placeholders take the
// request's values.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html#redirect-actions
func redirect(w http.ResponseWriter, r *http.Request, lc Listener, rd *Redirect) int {
	proto := strings.ToLower(lc.Protocol)
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	port := strconv.Itoa(lc.Port)
	expand := func(v, def string) string {
		if v == "" {
			return def
		}
		return strings.NewReplacer("#{protocol}", proto, "#{host}", host, "#{port}", port,
			"#{path}", strings.TrimPrefix(r.URL.Path, "/"), "#{query}", r.URL.RawQuery).Replace(v)
	}
	toProto := strings.ToLower(expand(rd.Protocol, proto))
	toHost, toPort := expand(rd.Host, host), expand(rd.Port, port)
	path, query := expand(rd.Path, r.URL.Path), expand(rd.Query, r.URL.RawQuery)
	loc := toProto + "://" + toHost
	if !(toProto == "http" && toPort == "80" || toProto == "https" && toPort == "443") {
		loc += ":" + toPort
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	loc += path
	if query != "" {
		loc += "?" + query
	}
	status := rd.StatusCode
	w.Header().Set("Location", loc)
	w.Header().Set("Server", serverHeader)
	w.Header().Set("Content-Type", "text/html")
	body := errorBody(status)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
	return status
}

func statusText(code int) string {
	switch code {
	case http.StatusServiceUnavailable:
		return "Service Temporarily Unavailable"
	case http.StatusGatewayTimeout:
		return "Gateway Time-out"
	}
	return http.StatusText(code)
}

// errorBody is the body of one of ALB's own error responses.
func errorBody(status int) string {
	return fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n</body>\r\n</html>\r\n",
		status, statusText(status), status, statusText(status))
}

// errorPage writes one of ALB's own error responses.
func errorPage(w http.ResponseWriter, status int) {
	body := errorBody(status)
	h := w.Header()
	h.Set("Server", serverHeader)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// forward sends the request to a target of the rule's groups: 503 when
// there is none, 502 when none can be reached or the target fails, 504
// when it does not answer within the idle timeout.
func (h *httpListener) forward(w http.ResponseWriter, r *http.Request, rt *routes, rule *compiledRule, peer netip.AddrPort) (int, string) {
	wg := h.pickGroup(w, r, rule)
	if wg == nil {
		errorPage(w, http.StatusServiceUnavailable)
		rt.stats.answered(http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable, ""
	}
	g := wg.g
	mem := g.members.Load()
	bal := g.balancer.Load()
	available := balance.Available(mem.balance)
	outlier := g.cfg.Load().Outlier
	if outlier != nil {
		available = balance.Unejected(available, h.m.now())
	}
	out := outgoing(r, rt, peer)
	body := &retryableBody{body: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		out.Body = body
	}
	var tried []*balance.Target
	for {
		bt := sticky(r, g, available)
		if bt == nil || slices.Contains(tried, bt) {
			bt = bal.Pick(available, tried...)
		}
		if bt == nil {
			status := http.StatusBadGateway
			if len(tried) == 0 {
				status = http.StatusServiceUnavailable
			}
			errorPage(w, status)
			rt.stats.answered(status)
			return status, ""
		}
		if len(tried) == 0 {
			wg.stats.chosen() // once, however many targets it takes
		}
		t := mem.byKey[bt.Key]
		status, err := h.proxy(w, out, rt, wg, t)
		if err != nil && isDialError(err) {
			wg.stats.connectFailed()
		}
		if outlier != nil && bt.Outcome(outlier, err != nil || status >= 500, h.m.now()) {
			h.m.log.Info().Str("target_group", g.arn).Str("target", bt.Key).Dur("for", outlier.Ejection).Msg("outlier ejected")
		}
		if err != nil && isDialError(err) && !body.read.Load() {
			tried = append(tried, bt)
			continue
		}
		return status, t.Addr
	}
}

// retryableBody lets a request body outlive a failed attempt: the
// transport closes the body it was given even when it could not connect.
type retryableBody struct {
	body   io.ReadCloser
	read   atomic.Bool
	failed atomic.Bool // reading it failed: the client's fault, not the target's
}

func (b *retryableBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		b.failed.Store(true)
	}
	return n, err
}

func (b *retryableBody) Close() error { return nil }

// pickGroup chooses among the rule's weighted groups, keeping a client on
// its group when the forward action is sticky.
func (h *httpListener) pickGroup(w http.ResponseWriter, r *http.Request, rule *compiledRule) *weighted {
	switch len(rule.groups) {
	case 0:
		return nil
	case 1:
		return &rule.groups[0]
	}
	f := rule.Action.Forward
	if f.Stickiness > 0 {
		if c, err := r.Cookie("AWSALBTG"); err == nil {
			for i := range rule.groups {
				if rule.groups[i].g.arn == c.Value {
					return &rule.groups[i]
				}
			}
		}
	}
	wg := rule.pick()
	if f.Stickiness > 0 {
		http.SetCookie(w, &http.Cookie{Name: "AWSALBTG", Value: wg.g.arn, Path: "/", Expires: time.Now().Add(f.Stickiness)})
	}
	return wg
}

// sticky returns the target the request's stickiness cookie names, if it
// is available.
func sticky(r *http.Request, g *group, available []*balance.Target) *balance.Target {
	cfg := g.cfg.Load().Stickiness
	name := "AWSALB"
	switch cfg.Type {
	case "lb_cookie":
	case "app_cookie":
		name = "AWSALBAPP-0"
	default:
		return nil
	}
	c, err := r.Cookie(name)
	if err != nil {
		return nil
	}
	for _, t := range available {
		if t.Key == c.Value {
			return t
		}
	}
	return nil
}

// Hop-by-hop headers, which a proxy does not forward (RFC 9110 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHop removes hop-by-hop headers, and those Connection names.
func removeHop(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// outgoing is the request as the target receives it, with the headers
// ALB adds.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html
func outgoing(r *http.Request, rt *routes, peer netip.AddrPort) *http.Request {
	out := r // the handler owns the request: it is changed in place
	upgrade := ""
	if isUpgrade(r) {
		upgrade = r.Header.Get("Upgrade")
	}
	removeHop(out.Header)
	if rt.lb.DropInvalidHeaders {
		for name := range out.Header {
			if !validHeaderName(name) {
				delete(out.Header, name)
			}
		}
	}
	if upgrade != "" {
		out.Header.Set("Connection", "Upgrade")
		out.Header.Set("Upgrade", upgrade)
	}
	proto := strings.ToLower(rt.listener.Protocol)
	switch rt.lb.XFFMode {
	case "remove":
		out.Header.Del("X-Forwarded-For")
	case "preserve":
	default:
		xff := peer.Addr().Unmap().String()
		if prior := out.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + xff
		}
		out.Header.Set("X-Forwarded-For", xff)
	}
	if rt.lb.XFFMode != "remove" {
		out.Header.Set("X-Forwarded-Proto", proto)
		out.Header.Set("X-Forwarded-Port", strconv.Itoa(rt.listener.Port))
	}
	out.Header.Set("X-Amzn-Trace-Id", traceID(r.Header.Get("X-Amzn-Trace-Id")))
	if rt.lb.TLSHeaders && r.TLS != nil {
		version, cipher := tlsHeaders(r.TLS)
		names := rt.listener.Headers
		out.Header.Set(cmp.Or(names.TLSVersion, "X-Amzn-Tls-Version"), version)
		out.Header.Set(cmp.Or(names.TLSCipherSuite, "X-Amzn-Tls-Cipher-Suite"), cipher)
	}
	if !rt.lb.PreserveHost {
		// Without preserve_host_header ALB sends the host without the
		// client's port, with the listener's when it is not the
		// protocol's default.
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !(proto == "http" && rt.listener.Port == 80 || proto == "https" && rt.listener.Port == 443) {
			host = net.JoinHostPort(host, strconv.Itoa(rt.listener.Port))
		}
		out.Host = host
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header.Set("User-Agent", "") // the transport must not add Go's own
	}
	return out
}

// validHeaderName reports whether a header name is one ALB keeps under
// routing.http.drop_invalid_header_fields: letters, digits and hyphens.
func validHeaderName(name string) bool {
	for _, c := range []byte(name) {
		if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(name), "upgrade") {
				return r.Header.Get("Upgrade") != ""
			}
		}
	}
	return false
}

// traceID returns the X-Amzn-Trace-Id to send: a new Root when the client
// sent none; with the client's Root kept, a new Self field added.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html
func traceID(prior string) string {
	id := "1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(24)
	if !strings.Contains(prior, "Root=") {
		return "Root=" + id
	}
	var kept []string
	for _, f := range strings.Split(prior, ";") {
		if f = strings.TrimSpace(f); f != "" && !strings.HasPrefix(f, "Self=") {
			kept = append(kept, f)
		}
	}
	return "Self=" + id + ";" + strings.Join(kept, ";")
}

// proxy sends out to target t and copies the answer back. It returns the
// status sent to the client; its error is the target's, if it could not
// be reached or failed. A dial error means nothing was sent.
func (h *httpListener) proxy(w http.ResponseWriter, out *http.Request, rt *routes, wg *weighted, t *target) (int, error) {
	end := t.Begin()
	defer end()
	g := wg.g
	sent := time.Now()
	wait := waits{idle: rt.lb.idleTimeout()}
	if timeout := g.cfg.Load().RequestTimeout; timeout > 0 {
		wait.until = sent.Add(timeout)
	}
	c, resp, err := t.exchange(w, out, wait, rt.stats)
	if err == nil {
		wg.stats.responded(resp.StatusCode, time.Since(sent))
	}
	if err != nil {
		if isDialError(err) {
			return 0, err
		}
		status := http.StatusBadGateway
		var ne net.Error
		if b, ok := out.Body.(*retryableBody); ok && b.failed.Load() {
			status = http.StatusBadRequest // the client's body was cut short or badly chunked
		} else if errors.As(err, &ne) && ne.Timeout() {
			status = http.StatusGatewayTimeout
		}
		errorPage(w, status)
		rt.stats.answered(status)
		return status, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return h.upgraded(w, t, c, resp)
	}
	removeHop(resp.Header)
	dst := w.Header()
	for k, v := range resp.Header {
		dst[k] = append(dst[k], v...) // after the AWSALBTG cookie, if set
	}
	if st := g.cfg.Load().Stickiness; st.Type == "lb_cookie" {
		http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: t.Key, Path: "/", Expires: time.Now().Add(st.Duration)})
	} else if st.Type == "app_cookie" && hasCookie(resp, st.CookieName) {
		http.SetCookie(w, &http.Cookie{Name: "AWSALBAPP-0", Value: t.Key, Path: "/", Expires: time.Now().Add(st.Duration)})
	}
	w.WriteHeader(resp.StatusCode)
	switch {
	case !copyBody(w, resp, c, wait, &h.m.buffers):
		t.upstream.discard(c)
		abort(w)
	case !resp.Close && !out.Close && c.br.Buffered() == 0: // nothing more than the response
		t.upstream.put(c)
	default:
		t.upstream.discard(c)
	}
	return resp.StatusCode, nil
}

// abort ends a response whose body could not be relayed whole, so that
// the client sees it cut short rather than complete: its connection is
// closed before the end of the body (HTTP/1.x), or its stream reset
// (HTTP/2, where net/http takes this panic for that).
func abort(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// exchange writes the request on a pooled connection and reads the
// final response head. A pooled connection the target closed while idle
// is replaced by a new one when the request is idempotent and nothing of
// its body was sent.
func (t *target) exchange(w http.ResponseWriter, out *http.Request, wait waits, stats *lbStats) (*upConn, *http.Response, error) {
	fresh := false
	for {
		c, reused, err := t.upstream.get(out.Context(), fresh, stats)
		if err != nil {
			return nil, nil, err
		}
		c.SetDeadline(wait.deadline())
		err = out.Write(c.bw)
		if err == nil {
			err = c.bw.Flush()
		}
		var resp *http.Response
		if err == nil {
			resp, err = readFinal(w, c, out)
		}
		if err == nil {
			return c, resp, nil
		}
		t.upstream.discard(c)
		if reused && !bodyRead(out) && idempotent(out.Method) && !isTimeout(err) {
			fresh = true
			continue
		}
		return nil, nil, err
	}
}

// readFinal reads the target's answer up to its final response. Of the
// interim ones (RFC 9110 15.2), 100 Continue is the listener's own to
// send, when the handler reads the body; the others (103 Early Hints)
// go on to the client, unless it speaks HTTP/1.0, which has none. 101
// is final: the caller joins the connections.
func readFinal(w http.ResponseWriter, c *upConn, out *http.Request) (*http.Response, error) {
	var h head
	for {
		// The lean path's reading first, so that a head it refuses (bare
		// LF, lengths in doubt) is a 502 here too; one too large for it is
		// left to net/http.
		raw, err := readHead(c.br)
		if err == nil {
			err = h.parse(raw, false)
		}
		if err != nil && err != errHeadSize {
			return nil, err
		}
		resp, err := http.ReadResponse(c.br, out)
		if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, err
		}
		if resp.StatusCode == http.StatusContinue || !out.ProtoAtLeast(1, 1) {
			continue
		}
		dst := w.Header()
		kept := dst.Clone() // the AWSALBTG cookie, if set, is for the final response
		clear(dst)
		removeHop(resp.Header)
		for k, v := range resp.Header {
			dst[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		clear(dst)
		for k, v := range kept {
			dst[k] = v
		}
	}
}

// idempotent reports whether a request may be sent again once it may
// have reached the target. RFC 9110 9.2.2: a proxy must not retry a
// request whose method is not idempotent; GET, HEAD, OPTIONS, TRACE,
// PUT and DELETE are. (net/http's Transport resends only the first four,
// or a request with an Idempotency-Key.)
func idempotent[M ~string | ~[]byte](method M) bool {
	switch string(method) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

func bodyRead(r *http.Request) bool {
	b, ok := r.Body.(*retryableBody)
	return ok && b.read.Load()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func hasCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return true
		}
	}
	return false
}

// copyBody streams the response body, flushing after each read when its
// length is unknown (a stream: server-sent events, chunked output). It
// reports whether the body was read to its end, so that the connection
// can serve again.
func copyBody(w http.ResponseWriter, resp *http.Response, c *upConn, wait waits, buffers *sync.Pool) bool {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	flush := resp.ContentLength < 0
	rc := http.NewResponseController(w)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false
			}
			if flush {
				rc.Flush()
			}
			c.SetReadDeadline(wait.deadline())
		}
		if err != nil {
			return err == io.EOF
		}
	}
}

// upgraded joins the client's connection to the target's after a 101
// Switching Protocols answer (WebSocket).
func (h *httpListener) upgraded(w http.ResponseWriter, t *target, backend *upConn, resp *http.Response) (int, error) {
	defer t.upstream.discard(backend)
	backend.SetDeadline(time.Time{})
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return http.StatusBadGateway, err
	}
	defer conn.Close()
	resp.Body = nil
	if err := resp.Write(brw); err != nil {
		return http.StatusSwitchingProtocols, err
	}
	if err := brw.Flush(); err != nil {
		return http.StatusSwitchingProtocols, err
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(backend, brw); done <- struct{}{} }()
	go func() { io.Copy(conn, backend.br); done <- struct{}{} }()
	<-done
	backend.Close()
	return http.StatusSwitchingProtocols, nil
}
