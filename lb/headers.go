package lb

import (
	"bufio"
	"net/http"
)

// HTTP header modification: a listener may rename the TLS headers it adds
// to requests, add response headers (HSTS, CORS, CSP, ...) to every
// response, and leave its Server header out of its own responses.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html

// Header is one HTTP header field.
type Header struct{ Name, Value string }

// Headers is a listener's header modification.
type Headers struct {
	// OmitServer is routing.http.response.server.enabled false: the load
	// balancer's own responses carry no Server header.
	OmitServer bool
	// Response are the headers every response gets, replacing a target's
	// of the same name: routing.http.response.*.header_value.
	Response []Header
	// TLSVersion and TLSCipherSuite name the request headers of
	// routing.http.x_amzn_tls_version_and_cipher_suite.enabled; "" keeps
	// X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite.
	TLSVersion, TLSCipherSuite string
}

// replaces reports whether the listener sets a response header of name.
func (h *Headers) replaces(name []byte) bool {
	for _, x := range h.Response {
		if equalFold(name, x.Name) {
			return true
		}
	}
	return false
}

// writeResponse writes the response headers into a head being written.
func (h *Headers) writeResponse(w *bufio.Writer) {
	for _, x := range h.Response {
		w.WriteString(x.Name)
		w.WriteString(": ")
		w.WriteString(x.Value)
		w.WriteString("\r\n")
	}
}

// writeServer writes the Server field of the load balancer's own
// responses, unless it is off.
func (h *Headers) writeServer(w *bufio.Writer) {
	if !h.OmitServer {
		w.WriteString("Server: " + serverHeader + "\r\n")
	}
}

// modifiedWriter applies a listener's response header changes on the
// net/http path, where every response goes through WriteHeader.
type modifiedWriter struct {
	http.ResponseWriter
	h     *Headers
	wrote bool
}

func (w *modifiedWriter) WriteHeader(status int) {
	if !w.wrote && status >= 200 {
		w.wrote = true
		hd := w.ResponseWriter.Header()
		for _, x := range w.h.Response {
			hd.Set(x.Name, x.Value)
		}
		if w.h.OmitServer && hd.Get("Server") == serverHeader {
			hd.Del("Server")
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *modifiedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *modifiedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// modify wraps w when the listener changes response headers.
func (h *Headers) modify(w http.ResponseWriter) http.ResponseWriter {
	if !h.OmitServer && len(h.Response) == 0 {
		return w
	}
	return &modifiedWriter{ResponseWriter: w, h: h}
}
