// Package rules matches HTTP requests against ALB listener rule
// conditions, as ALB evaluates them: the values of one condition are
// alternatives (any may match), the conditions of a rule must all match.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
package rules

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Condition is one condition of a rule. A condition of a field this
// package does not know, the zero value included, matches no request:
// a rule must never match more than it says.
type Condition struct {
	// Field is host-header, path-pattern, http-header,
	// http-request-method, query-string or source-ip.
	Field string
	// Values are the patterns (or methods, or CIDRs) to match.
	Values []string
	// Header is the header name of an http-header condition.
	Header string
	// Query holds the pairs of a query-string condition; an empty Key
	// matches any key.
	Query []KeyValue
	// Networks are the parsed CIDRs of a source-ip condition.
	Networks []netip.Prefix
}

// KeyValue is one pair of a query-string condition.
type KeyValue struct{ Key, Value string }

// Request is what conditions look at: the parts of an HTTP request and
// the address of the peer that sent it.
type Request struct {
	Method string
	Host   string // as the Host header has it, port included
	// Path is the decoded path, without the query string.
	Path, RawQuery string
	Header         Headers
	Peer           netip.Addr
}

// Headers are a request's header fields; http.Header is one.
type Headers interface {
	// Values returns every value of the named field (case-insensitive).
	Values(name string) []string
}

// FromHTTP is the Request of r, sent by peer.
func FromHTTP(r *http.Request, peer netip.Addr) Request {
	return Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header, Peer: peer}
}

// MatchAll reports whether every condition matches.
func MatchAll(conditions []Condition, r Request) bool {
	for _, c := range conditions {
		if !c.Match(r) {
			return false
		}
	}
	return true
}

// Match reports whether the request satisfies the condition.
func (c Condition) Match(r Request) bool {
	switch c.Field {
	case "host-header":
		// Case-insensitive, and the port is not part of the host.
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return anyValue(c.Values, func(p string) bool { return Wildcard(strings.ToLower(p), strings.ToLower(host)) })
	case "path-pattern":
		// Case-sensitive, on the path alone, not the query string.
		return anyValue(c.Values, func(p string) bool { return Wildcard(p, r.Path) })
	case "http-header":
		// Case-insensitive values; every occurrence of the header is tried.
		for _, v := range r.Header.Values(c.Header) {
			if anyValue(c.Values, func(p string) bool { return Wildcard(strings.ToLower(p), strings.ToLower(v)) }) {
				return true
			}
		}
		return false
	case "http-request-method":
		// Exact and case-sensitive, no wildcards.
		return anyValue(c.Values, func(m string) bool { return m == r.Method })
	case "query-string":
		// Any pair matches; case-insensitive, with wildcards.
		query, _ := url.ParseQuery(r.RawQuery)
		for _, kv := range c.Query {
			for key, values := range query {
				if kv.Key != "" && !Wildcard(strings.ToLower(kv.Key), strings.ToLower(key)) {
					continue
				}
				if anyValue(values, func(v string) bool { return Wildcard(strings.ToLower(kv.Value), strings.ToLower(v)) }) {
					return true
				}
			}
		}
		return false
	case "source-ip":
		peer := r.Peer.Unmap()
		for _, n := range c.Networks {
			if n.Contains(peer) {
				return true
			}
		}
		return false
	}
	return false
}

func anyValue(values []string, match func(string) bool) bool {
	for _, v := range values {
		if match(v) {
			return true
		}
	}
	return false
}

// Wildcard reports whether s matches pattern as a whole, where * matches
// any run of characters (none included) and ? exactly one.
func Wildcard(pattern, s string) bool {
	// Iterative matching with one backtrack point: the last *.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
