package dns

import (
	"net"
	"sync"
)

// maxTCPClients bounds the TCP connections the server keeps open at once,
// and maxTCPPerClient those of one client address: each holds a goroutine
// and up to a 64 KiB message buffer, and a client that opens connections
// and sends slowly (or never) would otherwise exhaust the process's file
// descriptors and memory, and starve the other clients. RFC 7766 §6.2.2
// lets a server limit the concurrent connections of a client address.
const (
	maxTCPClients   = 512
	maxTCPPerClient = 64
)

// maxForwards bounds the questions forwarded at once, and
// maxForwardsPerClient those of one client address: an upstream that
// does not answer holds each for forwardTimeout, with a goroutine and a
// socket, and a client asking faster would otherwise exhaust them, or
// take every place from the other clients.
const (
	maxForwards          = 256
	maxForwardsPerClient = 64
)

// quota counts what clients hold (connections, questions waiting for an
// upstream), at most total in all and perClient by one client address.
type quota struct {
	total, perClient int

	mu     sync.Mutex
	held   int
	client map[string]int // by client address (no port)
}

func newQuota(total, perClient int) *quota {
	return &quota{total: total, perClient: perClient, client: map[string]int{}}
}

// take reports whether client may hold one more, and counts it if so.
func (q *quota) take(client string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held >= q.total || q.client[client] >= q.perClient {
		return false
	}
	q.held++
	q.client[client]++
	return true
}

// give returns one that client held.
func (q *quota) give(client string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held--
	if q.client[client]--; q.client[client] <= 0 {
		delete(q.client, client)
	}
}

// host is addr's host, without its port.
func host(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return h
}

// limitListener accepts a connection only within its quota; it closes at
// once one beyond it (the client may retry, over UDP or later).
type limitListener struct {
	net.Listener
	quota *quota
}

// Accept returns the next connection within the quota.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := host(c.RemoteAddr())
		if !l.quota.take(client) {
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.quota.give(client) }}, nil
	}
}

// limitedConn gives its place back when closed (once, however often it
// is closed).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
