package lb

import (
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"berth/lb/balance"
	"berth/lb/proxyproto"
)

// udpIdle is how long an NLB keeps a UDP flow without traffic.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html#connection-idle-timeout
const udpIdle = 120 * time.Second

// udpFlow is one client's datagrams to the target its flow hashed to.
type udpFlow struct {
	up *net.UDPConn // connected to the target
	// header goes ahead of each datagram to the target: the PROXY
	// protocol's, when the target group has proxy_protocol_v2.enabled.
	header []byte
	last   atomic.Int64 // when the latest datagram went either way, in Unix nanoseconds
	// stats are the load balancer's UDP flow counters; nil when metrics
	// are off.
	stats *flowStats
}

func (f *udpFlow) touch() { f.last.Store(time.Now().UnixNano()) }

// expires is when the flow ends if no datagram comes.
func (f *udpFlow) expires() time.Time { return time.Unix(0, f.last.Load()).Add(udpIdle) }

// serveUDP serves an NLB UDP listener: a client's datagrams go to one
// target, chosen by a hash of the flow, and the target's answers come back
// from the listener's address.
func (m *Manager) serveUDP(l *listener, pc *net.UDPConn) func(time.Duration) <-chan struct{} {
	var mu sync.Mutex
	flows := map[string]*udpFlow{}
	forget := func(key string, f *udpFlow) {
		mu.Lock()
		if flows[key] == f {
			delete(flows, key)
		}
		mu.Unlock()
		f.up.Close()
		if f.stats != nil {
			f.stats.flows.end() // forget runs once a flow, when its answering ends
		}
	}
	var out []byte // a datagram with its header; relay runs in one goroutine
	// relay sends one datagram on to the target of its flow.
	relay := func(datagram []byte, client *net.UDPAddr) {
		defer m.contain("UDP datagram", nil)
		key := client.String()
		mu.Lock()
		f := flows[key]
		mu.Unlock()
		if f == nil {
			rt := l.routes.Load()
			up, g := m.dialUDP(rt, client, pc.LocalAddr())
			if up == nil {
				return // no target: the datagram is dropped
			}
			f = &udpFlow{up: up}
			if rt.stats != nil {
				f.stats = &rt.stats.flows[flowUDP]
				f.stats.flows.begin()
			}
			if g.cfg.Load().ProxyProtocol {
				local, _ := netip.ParseAddrPort(pc.LocalAddr().String())
				f.header = proxyproto.UDP(client.AddrPort(), local)
			}
			mu.Lock()
			flows[key] = f
			mu.Unlock()
			f.touch()
			go func() {
				defer m.contain("UDP flow", nil)
				answerUDP(pc, client, f, func() { forget(key, f) })
			}()
		}
		f.touch()
		if f.stats != nil {
			f.stats.bytes.Add(int64(len(datagram)))
		}
		if f.header != nil {
			out = append(append(out[:0], f.header...), datagram...)
			datagram = out
		}
		f.up.Write(datagram)
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, client, err := pc.ReadFromUDP(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				m.log.Warn().Err(err).Str("address", pc.LocalAddr().String()).Msg("cannot read a datagram")
				time.Sleep(10 * time.Millisecond)
				continue
			}
			relay(buf[:n], client)
		}
	}()
	return func(time.Duration) <-chan struct{} {
		pc.Close()
		mu.Lock()
		defer mu.Unlock()
		for key, f := range flows {
			f.up.Close()
			delete(flows, key)
		}
		done := make(chan struct{})
		close(done)
		return done
	}
}

// answerUDP sends the target's datagrams back to the client until the
// flow has been idle for udpIdle, then ends it.
func answerUDP(pc *net.UDPConn, client *net.UDPAddr, f *udpFlow, end func()) {
	defer end()
	buf := make([]byte, 64<<10)
	for {
		f.up.SetReadDeadline(f.expires())
		n, err := f.up.Read(buf)
		if isTimeout(err) && time.Now().Before(f.expires()) {
			continue // the client sent something meanwhile
		}
		if err != nil {
			return
		}
		f.touch()
		if f.stats != nil {
			f.stats.bytes.Add(int64(n))
		}
		pc.WriteToUDP(buf[:n], client)
	}
}

// dialUDP connects to the target of the listener's default forward that
// the flow from client to local hashes to, and returns its group; or nil.
func (m *Manager) dialUDP(rt *routes, client *net.UDPAddr, local net.Addr) (*net.UDPConn, *group) {
	if len(rt.rules) == 0 || len(rt.rules[0].groups) == 0 {
		return nil, nil
	}
	g := rt.rules[0].groups[0].g
	mem := g.members.Load()
	available := balance.Available(mem.balance)
	if len(available) == 0 {
		return nil, nil
	}
	t := mem.byKey[available[flowHash(client.String(), local.String())%uint32(len(available))].Key]
	conn, err := m.dial(t.ctx, "udp", t.Addr)
	if err != nil {
		return nil, nil
	}
	up, ok := conn.(*net.UDPConn)
	if !ok {
		conn.Close()
		return nil, nil
	}
	return up, g
}

// flowHash hashes a flow's addresses, so that a flow always goes to the
// same target while the targets stay the same.
func flowHash(remote, local string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(remote + "|" + local))
	return h.Sum32()
}
