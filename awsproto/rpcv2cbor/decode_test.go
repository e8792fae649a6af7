package rpcv2cbor

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"

	"berth/awsproto"
)

func isSerialization(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == "SerializationException" && ae.Status == 400
}

// text is a definite CBOR text string of fewer than 24 bytes.
func text(s string) []byte { return append([]byte{0x60 + byte(len(s))}, s...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestDecodeMalformed: RFC 8949 section 5.3 (well-formedness and valid
// UTF-8 text), no bytes after the body's item, and counts that the body
// cannot hold are errors, never an empty or partial input.
func TestDecodeMalformed(t *testing.T) {
	ns := text("Namespace")
	for name, body := range map[string][]byte{
		"text not UTF-8":      cat([]byte{0xa1}, ns, []byte{0x62, 0xc3, 0x28}),
		"key not UTF-8":       cat([]byte{0xa1, 0x61, 0xff}, text("x")),
		"chunk not UTF-8":     cat([]byte{0xa1}, ns, []byte{0x7f, 0x61, 0xc3, 0x61, 0xa9, 0xff}),
		"trailing bytes":      cat([]byte{0xa1}, ns, text("n"), []byte{0x00}),
		"second map":          cat([]byte{0xa1}, ns, text("n"), []byte{0xa0}),
		"map of 2^64-1":       {0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"list of 2^64-1":      cat([]byte{0xa1}, text("MetricData"), []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		"unknown list 2^64-1": cat([]byte{0xa1}, text("x"), []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		"string past the end": cat([]byte{0xa1}, ns, []byte{0x7a, 0xff, 0xff, 0xff, 0xff}),
		"unterminated list":   cat([]byte{0xa1}, text("MetricData"), []byte{0x9f, 0xa0}),
		"stray break":         cat([]byte{0xa1}, text("x"), []byte{0xff}),
		"reserved info":       cat([]byte{0xa1}, text("x"), []byte{0x1c}),
		"deep unknown":        cat([]byte{0xa1}, text("x"), bytes.Repeat([]byte{0x81}, awsproto.MaxDepth+5), []byte{0x00}),
		"too many list items": cat([]byte{0xa1}, text("MetricData"), []byte{0x9f}, bytes.Repeat([]byte{0xa0}, awsproto.MaxItems+1), []byte{0xff}),
		"too many (definite)": cat([]byte{0xa1}, text("MetricData"), []byte{0x99, 0x27, 0x11}, bytes.Repeat([]byte{0xa0}, awsproto.MaxItems+1)),
		"integer key":         {0xa1, 0x01, 0x02},
		"not a map":           {0x80},
	} {
		var in cloudwatch.PutMetricDataInput
		if err := Decode(body, &in); !isSerialization(err) {
			t.Errorf("%s: Decode(% x) = %v, want SerializationException", name, body, err)
		}
	}
}

// TestDecodeSkipsUnknown: members the input does not have are checked and
// skipped; what it has is read around them, in definite and indefinite
// forms, with half-precision floats.
func TestDecodeSkipsUnknown(t *testing.T) {
	body := cbor.Encode(cbor.Map{
		"x":         cbor.List{cbor.Uint(1), cbor.Map{"a": cbor.String("b")}, &cbor.Tag{ID: 1, Value: cbor.Uint(2)}},
		"Namespace": cbor.String("ns"),
	})
	var in cloudwatch.PutMetricDataInput
	if err := Decode(body, &in); err != nil || *in.Namespace != "ns" {
		t.Fatalf("Decode = %v, %+v", err, in)
	}
	// {_ "MetricData": [_ {"MetricName": (_ "a" "b"), "Value": 1.5 as a half float}]}
	body = cat([]byte{0xbf}, text("MetricData"), []byte{0x9f, 0xbf}, text("MetricName"), []byte{0x7f, 0x61, 'a', 0x61, 'b', 0xff},
		text("Value"), []byte{0xf9, 0x3e, 0x00, 0xff, 0xff, 0xff})
	in = cloudwatch.PutMetricDataInput{}
	if err := Decode(body, &in); err != nil || len(in.MetricData) != 1 || *in.MetricData[0].MetricName != "ab" || *in.MetricData[0].Value != 1.5 {
		t.Fatalf("Decode = %v, %+v", err, in)
	}
}
