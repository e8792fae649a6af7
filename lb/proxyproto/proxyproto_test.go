package proxyproto

import (
	"bytes"
	"net/netip"
	"testing"
)

// The expected bytes are spelled out from the PROXY protocol
// specification, section 2.2: the 12-byte signature, 0x21 (version 2,
// PROXY), the family and transport byte, the length of the addresses in
// network order, then source address, destination address, source port,
// destination port.
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
func TestHeader(t *testing.T) {
	sig := []byte("\r\n\r\n\x00\r\nQUIT\n")
	for _, c := range []struct {
		name           string
		header         func(client, server netip.AddrPort) []byte
		client, server string
		want           []byte
	}{
		{"TCP over IPv4", TCP, "192.0.2.10:40000", "198.51.100.1:443",
			cat(sig, []byte{0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 10, 198, 51, 100, 1, 0x9C, 0x40, 0x01, 0xBB})},
		{"TCP over IPv6", TCP, "[2001:db8::1]:1", "[2001:db8::2]:80",
			cat(sig, []byte{0x21, 0x21, 0x00, 0x24},
				[]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
				[]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
				[]byte{0, 1, 0, 80})},
		{"an IPv4-mapped client to IPv4 is IPv4", TCP, "[::ffff:192.0.2.10]:40000", "198.51.100.1:443",
			cat(sig, []byte{0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 10, 198, 51, 100, 1, 0x9C, 0x40, 0x01, 0xBB})},
		// UDP over IPv4 is 0x12.
		{"UDP over IPv4", UDP, "192.0.2.10:5353", "198.51.100.1:53",
			cat(sig, []byte{0x21, 0x12, 0x00, 0x0C, 192, 0, 2, 10, 198, 51, 100, 1, 0x14, 0xE9, 0x00, 0x35})},
	} {
		got := c.header(netip.MustParseAddrPort(c.client), netip.MustParseAddrPort(c.server))
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: got % x\nwant % x", c.name, got, c.want)
		}
	}
	// LOCAL (0x20) with AF_UNSPEC and no address (length 0).
	if got, want := Local(), cat(sig, []byte{0x20, 0x00, 0x00, 0x00}); !bytes.Equal(got, want) {
		t.Errorf("Local: got % x, want % x", got, want)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
