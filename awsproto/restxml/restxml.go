// Package restxml is the AWS REST-XML protocol (Route 53) on the server
// side: an operation is chosen by HTTP method and URI path, its input
// members come from URI labels, the query string, headers and an XML body,
// and its output is an XML document whose elements are named after the
// SDK's members, in the service's namespace.
//
// Wire rules (https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html):
// structure members are elements named as the members, lists wrap their
// items in elements named by the list's member name (ResourceRecordSets/
// ResourceRecordSet), timestamps are ISO 8601 and errors are
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
package restxml

//go:generate go run gen_models.go

import (
	"net/url"
	"strings"
)

// Location is where an input or output member travels outside the XML
// body: In is "uri", "querystring" or "header", Name the label, parameter
// or header name.
type Location struct {
	In, Name string
}

// Operation is one operation's HTTP binding, as the service model says.
type Operation struct {
	Name   string
	Method string
	// Path is the URI pattern, with {Label} (one segment) and {Label+}
	// (the rest of the path) labels.
	Path string
	// Status is the HTTP status of a success.
	Status int
	// BodyRoot is the root element of the input's XML body, "" when the
	// input has no body.
	BodyRoot string
	// Input and Output are the members, by the SDK's Go field names, that
	// travel outside the body; the others are in it.
	Input, Output map[string]Location
}

// Service is a REST-XML service's bindings.
type Service struct {
	// Namespace is the XML namespace of its documents.
	Namespace  string
	Operations []Operation
	// Items names the elements of list items, by "Struct.Member" with
	// the SDK's Go struct names (ListResourceRecordSetsOutput.ResourceRecordSets:
	// ResourceRecordSet). A list not named here has <member> items.
	Items map[string]string
	// Errors are the HTTP statuses of the service's modeled errors, by code.
	Errors map[string]int
}

// Match finds the operation for method and the (escaped) URL path, and the
// values of its path labels. found is false when no operation has this
// path; when one has it for another method, allowed is true.
func (s *Service) Match(method, escapedPath string) (op *Operation, labels map[string]string, found, allowed bool) {
	segs := splitPath(escapedPath)
	best := -1
	for i := range s.Operations {
		o := &s.Operations[i]
		l, literals, ok := match(splitPath(o.Path), segs)
		if !ok {
			continue
		}
		if o.Method != method {
			allowed = true
			continue
		}
		if literals > best {
			best, op, labels = literals, o, l
		}
	}
	return op, labels, op != nil, allowed && op == nil
}

// splitPath splits a path into its segments, ignoring a trailing slash.
func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match matches path segments against a pattern's, returning the labels'
// values (unescaped) and how many literal segments matched.
func match(pattern, segs []string) (map[string]string, int, bool) {
	labels := map[string]string{}
	literals := 0
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if greedy, ok := strings.CutSuffix(name, "+"); ok {
				if i >= len(segs) {
					return nil, 0, false
				}
				v, err := url.PathUnescape(strings.Join(segs[i:], "/"))
				if err != nil || v == "" {
					return nil, 0, false
				}
				labels[greedy] = v
				return labels, literals, true
			}
			if i >= len(segs) || segs[i] == "" {
				return nil, 0, false
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, 0, false
			}
			labels[name] = v
			continue
		}
		if i >= len(segs) || segs[i] != p {
			return nil, 0, false
		}
		literals++
	}
	if len(segs) != len(pattern) {
		return nil, 0, false
	}
	return labels, literals, true
}
