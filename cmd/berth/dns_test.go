package main

import "testing"

// TestDNSAddress: auto is port 53 of the load balancer network's last
// address but one, as the README says; none and an explicit address are
// taken as given.
func TestDNSAddress(t *testing.T) {
	for _, tc := range []struct{ listen, network, want string }{
		{"auto", "127.10.0.0/16", "127.10.255.254:53"},
		{"auto", "10.99.3.0/24", "10.99.3.254:53"},
		{"auto", "127.0.0.0/8", "127.255.255.254:53"},
		{"auto", "none", ""},
		{"none", "127.10.0.0/16", ""},
		{"127.0.0.1:0", "127.10.0.0/16", "127.0.0.1:0"},
	} {
		got, err := dnsAddress(tc.listen, tc.network)
		if err != nil || got != tc.want {
			t.Errorf("dnsAddress(%q, %q) = %q, %v; want %q", tc.listen, tc.network, got, err, tc.want)
		}
	}
	if _, err := dnsAddress("nowhere", "none"); err == nil {
		t.Error("an address without a port is taken")
	}
}
