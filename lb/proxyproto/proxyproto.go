// Package proxyproto writes the binary header of version 2 of the PROXY
// protocol, which an NLB sends to a target ahead of a connection's bytes
// when the target group's proxy_protocol_v2.enabled attribute is true, so
// that the target learns the client's address.
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt (section 2.2)
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#proxy-protocol
package proxyproto

import "net/netip"

// signature opens every version 2 header: "\r\n\r\n\0\r\nQUIT\n".
var signature = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// The 13th byte: the version (2) in the high nibble, the command in the
// low one. The 14th: the address family in the high nibble (1 AF_INET, 2
// AF_INET6), the transport in the low one (1 STREAM, 2 DGRAM).
const (
	cmdLocal = 0x20
	cmdProxy = 0x21
	inet     = 0x10
	inet6    = 0x20
	stream   = 0x01
	dgram    = 0x02
)

// TCP is the header of a TCP connection that client opened to server
// (the load balancer's address). Two IPv4 addresses are sent as such;
// otherwise both go as IPv6, an IPv4 one mapped.
func TCP(client, server netip.AddrPort) []byte { return header(client, server, stream) }

// UDP is the header that goes ahead of each datagram client sent to
// server, UDP having no connection to begin.
func UDP(client, server netip.AddrPort) []byte { return header(client, server, dgram) }

func header(client, server netip.AddrPort, transport byte) []byte {
	src, dst := client.Addr().Unmap(), server.Addr().Unmap()
	b := append(signature[:len(signature):len(signature)], cmdProxy)
	if src.Is4() && dst.Is4() {
		b = append(b, inet|transport, 0, 12)
		s, d := src.As4(), dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		b = append(b, inet6|transport, 0, 36)
		s, d := src.As16(), dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	}
	return append(b, byte(client.Port()>>8), byte(client.Port()), byte(server.Port()>>8), byte(server.Port()))
}

// Local is the header of a connection the load balancer opens on its own
// behalf, a health check: the LOCAL command, with no address.
func Local() []byte {
	return append(signature[:len(signature):len(signature)], cmdLocal, 0, 0, 0)
}
