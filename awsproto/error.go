// Package awsproto holds what the AWS wire protocols share: the error value
// every handler returns and the field naming rules the codecs derive from the
// SDK's own Go types. The codecs themselves live in json11 (AWS JSON 1.1) and
// query (AWS query: form in, XML out); sigv4 parses and verifies signatures.
package awsproto

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
)

// Error is an AWS API error as the wire protocols carry it. Code is the wire
// code the SDKs match on (for ELBv2 that is the code without the
// "Exception" suffix), Status the HTTP status, and Sender tells a client
// fault from a server fault (the query protocol's <Type>).
type Error struct {
	Code    string
	Message string
	Status  int
	Sender  bool
	// Fields are the members an exception's shape has beside its message
	// (Cloud Map's NamespaceAlreadyExists carries the NamespaceId), by
	// their wire names; the JSON protocols write them beside __type.
	Fields map[string]string
}

// With returns e with the member name set to value (nothing for "").
func (e *Error) With(name, value string) *Error {
	if value == "" {
		return e
	}
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	e.Fields[name] = value
	return e
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ClientError is a 400 error caused by the request.
func ClientError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest, Sender: true}
}

// StatusError is a client error with a status other than 400.
func StatusError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Sender: status < 500}
}

// Modeled is an error whose code and fault come from one of the SDK's
// modeled exception types, so the wire code is exactly what the SDK matches:
//
//	awsproto.Modeled(&types.ClusterNotFoundException{}, "Cluster not found.")
func Modeled(e interface {
	ErrorCode() string
	ErrorFault() smithy.ErrorFault
}, format string, args ...any) *Error {
	status, sender := http.StatusBadRequest, true
	if e.ErrorFault() == smithy.FaultServer {
		status, sender = http.StatusInternalServerError, false
	}
	return &Error{Code: e.ErrorCode(), Message: fmt.Sprintf(format, args...), Status: status, Sender: sender}
}

// HasCode reports whether err is an *Error with the code of the SDK
// exception type e.
func HasCode(err error, e interface{ ErrorCode() string }) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == e.ErrorCode()
}
