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

// limitListener accepts a connection only within the limits; it closes
// at once one beyond them (the client may retry, over UDP or later).
type limitListener struct {
	net.Listener
	total, perClient int

	mu     sync.Mutex
	open   int
	client map[string]int // open connections by remote address (no port)
}

func newLimitListener(ln net.Listener, total, perClient int) *limitListener {
	return &limitListener{Listener: ln, total: total, perClient: perClient, client: map[string]int{}}
}

// Accept returns the next connection within the limits.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		l.mu.Lock()
		ok := l.open < l.total && l.client[host] < l.perClient
		if ok {
			l.open++
			l.client[host]++
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.client[host]--; l.client[host] == 0 {
		delete(l.client, host)
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
