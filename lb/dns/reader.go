package dns

import (
	"net"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// safeReader reads messages for miekg/dns's server and lets through only
// those that check reads without a panic. miekg/dns unpacks a message in
// the goroutine serving its connection or packet, before ServeDNS (which
// contains its own panics) is called: a message that made its parser
// panic would end berth. Checked here first, inside a recover, such a
// message is dropped (UDP) or ends its connection (TCP), and the server
// goes on.
type safeReader struct {
	mdns.Reader
	// check reads a message as the server will (unpacking it); a panic
	// in it drops the message.
	check func([]byte)
	log   zerolog.Logger
}

// panicError ends a TCP connection whose message made the parser panic.
type panicError struct{}

func (panicError) Error() string { return "a DNS message made the parser panic" }

// notPacketReader is the error of a reader that reads no packet
// connections.
type notPacketReader struct{}

func (notPacketReader) Error() string {
	return "the DNS server's reader does not read packet connections"
}

// unpack is the check of berth's server: miekg/dns's own unpacking.
func unpack(m []byte) { new(mdns.Msg).Unpack(m) }

// panics reports whether check panics on m.
func (r safeReader) panics(m []byte) (panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error().Interface("panic", p).Hex("message", m).Msg("reading a DNS message")
			panicked = true
		}
	}()
	r.check(m)
	return false
}

// ReadTCP reads the next message of conn.
func (r safeReader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	m, err := r.Reader.ReadTCP(conn, timeout)
	if err == nil && r.panics(m) {
		return nil, panicError{}
	}
	return m, err
}

// ReadUDP reads the next packet of conn that does not panic.
func (r safeReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *mdns.SessionUDP, error) {
	for {
		m, s, err := r.Reader.ReadUDP(conn, timeout)
		if err != nil || !r.panics(m) {
			return m, s, err
		}
	}
}

// ReadPacketConn reads the next packet of conn that does not panic.
func (r safeReader) ReadPacketConn(conn net.PacketConn, timeout time.Duration) ([]byte, net.Addr, error) {
	pcr, ok := r.Reader.(mdns.PacketConnReader)
	if !ok {
		return nil, nil, notPacketReader{}
	}
	for {
		m, a, err := pcr.ReadPacketConn(conn, timeout)
		if err != nil || !r.panics(m) {
			return m, a, err
		}
	}
}
