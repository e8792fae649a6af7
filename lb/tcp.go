package lb

import (
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"berth/lb/balance"
	"berth/lb/proxyproto"
)

// tcpIdle is how long an NLB keeps a TCP flow in which neither side sends
// anything, unless a TCP listener's tcp.idle_timeout.seconds says
// otherwise; it is also the fixed idle timeout of TLS listeners.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
const tcpIdle = 350 * time.Second

// serveTCP serves an NLB TCP listener: each connection is joined to one
// target, chosen by a hash of the flow, and bytes go both ways with
// half-closes passed on, until the flow is idle for the listener's idle
// timeout.
func (m *Manager) serveTCP(l *listener, ln net.Listener) func(time.Duration) <-chan struct{} {
	var flows inFlight
	ctx, cancel := context.WithCancel(context.Background())
	go m.accept(ln, "TCP flow", func(conn net.Conn) {
		if !flows.begin() {
			conn.Close()
			return
		}
		defer flows.end()
		m.proxyTCP(ctx, l, conn)
	})
	return func(drain time.Duration) <-chan struct{} {
		ln.Close()
		return inBackground(func() {
			flows.wait(drain)
			cancel()
			flows.wait(time.Minute) // each flow ends at once now
		})
	}
}

// proxyTCP joins conn to a target of the listener's default forward.
func (m *Manager) proxyTCP(ctx context.Context, l *listener, conn net.Conn) {
	rt := l.routes.Load()
	defer conn.Close()
	if len(rt.rules) == 0 || len(rt.rules[0].groups) == 0 {
		return
	}
	g := rt.rules[0].groups[0].g
	mem := g.members.Load()
	available := balance.Available(mem.balance)
	hash := int(flowHash(conn.RemoteAddr().String(), conn.LocalAddr().String()))
	var tried []*balance.Target
	for len(tried) < len(available) {
		var bt *balance.Target
		for i := 0; i < len(available); i++ {
			c := available[(hash+i)%len(available)]
			if !slices.Contains(tried, c) {
				bt = c
				break
			}
		}
		t := mem.byKey[bt.Key]
		up, err := m.dial(ctx, "tcp", t.Addr)
		if err != nil {
			tried = append(tried, bt)
			continue
		}
		end := t.Begin()
		defer end()
		var bytes *atomic.Int64
		if rt.stats != nil {
			fs := &rt.stats.flows[flowIndex(l.protocol)]
			fs.flows.begin()
			defer fs.flows.end()
			bytes = &fs.bytes
		}
		stop := context.AfterFunc(t.ctx, func() { conn.Close(); up.Close() })
		defer stop()
		stopAll := context.AfterFunc(ctx, func() { conn.Close(); up.Close() })
		defer stopAll()
		if g.cfg.Load().ProxyProtocol {
			client, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
			local, _ := netip.ParseAddrPort(conn.LocalAddr().String())
			if _, err := up.Write(proxyproto.TCP(client, local)); err != nil {
				up.Close()
				return
			}
		}
		m.pipe(conn, up, func() time.Duration { return l.routes.Load().tcpIdle() }, bytes)
		return
	}
}

// flowIndex is the index of a listener protocol's flow counters.
func flowIndex(protocol string) int {
	switch protocol {
	case "TLS":
		return flowTLS
	case "UDP":
		return flowUDP
	}
	return flowTCP
}

// tcpIdle is the idle timeout of the listener's TCP flows.
func (rt *routes) tcpIdle() time.Duration {
	if rt.listener.Protocol == "TCP" && rt.listener.IdleTimeout > 0 {
		return rt.listener.IdleTimeout
	}
	return tcpIdle
}

// pipe copies both ways until both directions end, passing each
// direction's end on as a half-close, or until nothing has gone either
// way for the idle timeout, a half-closed flow included; then both are
// closed. idle is read as the flow goes: a changed timeout applies to
// the flows open. What is copied either way adds to bytes, unless nil.
//
// Each direction copies with io.Copy, which splices between TCP sockets
// without copying through user space, under a read deadline of a
// quarter of the timeout: a copy that ends by the deadline having moved
// bytes marks the flow active. A flow is so closed between the timeout
// and 1.25 times it after its last byte.
func (m *Manager) pipe(a, b net.Conn, idle func() time.Duration, bytes *atomic.Int64) {
	var last atomic.Int64 // when a window last saw bytes go either way, in Unix nanoseconds
	last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(2)
	half := func(dst, src net.Conn) {
		defer wg.Done()
		defer m.contain("TCP flow", func() { a.Close(); b.Close() })
		for {
			timeout := idle()
			src.SetReadDeadline(time.Now().Add(max(timeout/4, time.Millisecond)))
			n, err := io.Copy(dst, src)
			if n > 0 {
				last.Store(time.Now().UnixNano())
				if bytes != nil {
					bytes.Add(n)
				}
			}
			if err == nil {
				break // the end of src's bytes
			}
			if !isTimeout(err) || time.Since(time.Unix(0, last.Load())) >= timeout {
				a.Close() // failed, or idle: the flow ends both ways
				b.Close()
				return
			}
		}
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			c.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go half(a, b)
	go half(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}
