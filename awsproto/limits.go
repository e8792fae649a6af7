package awsproto

import "math"

// Bounds on what decoding one request body may build, so that the work and
// memory of a decode are bounded by small multiples of the body's size
// whatever its shape: a list of millions of empty objects would otherwise
// cost far more in Go values than in bytes.
const (
	// MaxItems bounds the members of one list or map in a request. The
	// longest lists AWS documents for the operations berth serves have a
	// few thousand members (CloudWatch PutMetricData: 1,000 metrics of up
	// to 150 values,
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
	MaxItems = 10_000
	// MaxValues bounds the values (scalars, structures, list and map
	// members) one request decodes to.
	MaxValues = 1_000_000
	// MaxDepth bounds the nesting of lists and objects in a request body,
	// including members berth skips.
	MaxDepth = 100
	// MaxDecodedBytes bounds the memory the values decoded from one
	// request take (their Go sizes and string lengths).
	MaxDecodedBytes = 256 << 20
)

// Budget counts what one decode has built against the bounds above.
type Budget struct {
	values, bytes int
}

// Charge counts one value of size bytes; it is false once a bound is
// passed.
func (b *Budget) Charge(size int) bool {
	b.values++
	b.bytes += size
	return b.values <= MaxValues && b.bytes <= MaxDecodedBytes
}

// NonFinite is how the AWS protocols write a double that is not a number
// or is infinite: "NaN", "Infinity" or "-Infinity" (as a string in JSON,
// which has no such numbers; as text in XML), as the Smithy protocols
// specify (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html,
// https://smithy.io/2.0/aws/protocols/aws-query-protocol.html).
func NonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// SerializationError is a body that cannot be decoded: the
// SerializationException of the JSON and CBOR protocols.
func SerializationError(format string, args ...any) *Error {
	return ClientError("SerializationException", format, args...)
}

// TooManyItems is a list or map at path with more than MaxItems members.
func TooManyItems(path string) *Error {
	return SerializationError("%s: more than %d members", path, MaxItems)
}

// BeyondBounds is a body that decodes to more than MaxValues values or
// MaxDecodedBytes.
func BeyondBounds() *Error {
	return SerializationError("the request body decodes to more than berth's bounds (%d values, %d MiB)", MaxValues, MaxDecodedBytes>>20)
}
