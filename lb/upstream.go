package lb

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// upstream is a target's pool of HTTP/1.1 connections. It replaces
// net/http's Transport on the request path: a request is written and its
// response read by the handler's own goroutine, with no hand-off to the
// per-connection goroutines the Transport runs, which the profile showed
// to cost as much as the rest of the proxy.
type upstream struct {
	addr string
	dial func(ctx context.Context) (net.Conn, error)

	mu     sync.Mutex
	idle   []*upConn
	active map[*upConn]struct{}
	closed bool
}

// upConn is one connection to a target with its buffers.
type upConn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// maxIdle bounds the idle connections kept per target.
const maxIdle = 1024

func newUpstream(addr string, dial func(ctx context.Context) (net.Conn, error)) *upstream {
	return &upstream{addr: addr, dial: dial, active: map[*upConn]struct{}{}}
}

var errUpstreamClosed = errors.New("target finished")

// get returns an idle connection, or a new one; reused says which. A new
// one counts in stats (which may be nil) until it is closed.
func (u *upstream) get(ctx context.Context, fresh bool, stats *lbStats) (c *upConn, reused bool, err error) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil, false, dialError{errUpstreamClosed}
	}
	for n := len(u.idle); n > 0 && !fresh; n = len(u.idle) {
		c = u.idle[n-1]
		u.idle = u.idle[:n-1]
		u.mu.Unlock()
		// A connection the target closed while idle, or sent on what no
		// request asked for, cannot carry a request: the unasked-for bytes
		// would be read as its answer, another client's maybe.
		if closedByTarget(c) {
			c.Close()
			u.mu.Lock()
			continue
		}
		u.mu.Lock()
		u.active[c] = struct{}{}
		u.mu.Unlock()
		return c, true, nil
	}
	u.mu.Unlock()
	conn, err := u.dial(ctx)
	if err != nil {
		return nil, false, err
	}
	if stats != nil {
		stats.conns.begin()
		conn = &countedConn{Conn: conn, conns: &stats.conns}
	}
	c = &upConn{Conn: conn, br: bufio.NewReaderSize(conn, 16<<10), bw: bufio.NewWriterSize(conn, 16<<10)}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		conn.Close()
		return nil, false, dialError{errUpstreamClosed}
	}
	u.active[c] = struct{}{}
	return c, false, nil
}

// put returns a connection whose exchange completed cleanly.
func (u *upstream) put(c *upConn) {
	c.SetDeadline(time.Time{})
	u.mu.Lock()
	delete(u.active, c)
	if u.closed || len(u.idle) >= maxIdle {
		u.mu.Unlock()
		c.Close()
		return
	}
	u.idle = append(u.idle, c)
	u.mu.Unlock()
}

// discard closes a connection that cannot be reused.
func (u *upstream) discard(c *upConn) {
	u.mu.Lock()
	delete(u.active, c)
	u.mu.Unlock()
	c.Close()
}

// close closes every connection, idle or in use: what is in flight fails.
func (u *upstream) close() {
	u.mu.Lock()
	u.closed = true
	conns := u.idle
	u.idle = nil
	for c := range u.active {
		conns = append(conns, c)
	}
	u.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// waits bound the reads from a target: each within the load balancer's
// idle timeout, and all before a request's deadline (until), if it has
// one.
type waits struct {
	idle  time.Duration
	until time.Time
}

// deadline is when the next read from the target must end.
func (w waits) deadline() time.Time {
	d := time.Now().Add(w.idle)
	if !w.until.IsZero() && w.until.Before(d) {
		return w.until
	}
	return d
}
