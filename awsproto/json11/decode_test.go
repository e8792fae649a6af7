package json11

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth/awsproto"
)

// isSerialization reports whether err is the SerializationException, 400,
// that AWS answers a body it cannot read with.
func isSerialization(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == "SerializationException" && ae.Status == 400
}

// TestDecodeSurrogates: an escaped UTF-16 surrogate names a character
// only as half of a pair (RFC 8259 section 7); a lone one is refused, not
// stored as U+FFFD.
func TestDecodeSurrogates(t *testing.T) {
	var in ecs.RegisterTaskDefinitionInput
	if err := (Codec{}).Decode([]byte(`{"family":"a\ud83d\ude00b\u00e9\n"}`), &in); err != nil || *in.Family != "a😀bé\n" {
		t.Fatalf("pair: %v %q", err, *in.Family)
	}
	for _, body := range []string{
		`{"family":"x\ud800y"}`, `{"family":"x\udc00"}`, `{"family":"\ud800\u0041"}`, `{"family":"\ud800\ud800"}`,
		`{"family":"\ud800`, `{"unknown":"\udfff"}`,
	} {
		var in ecs.RegisterTaskDefinitionInput
		if err := (Codec{}).Decode([]byte(body), &in); !isSerialization(err) {
			t.Errorf("Decode(%s) = %v, want SerializationException", body, err)
		}
	}
}

// TestDecodeBounds: lists over awsproto.MaxItems, nesting over
// awsproto.MaxDepth and bodies that would build more than the budget are
// refused; members the input does not have are skipped unbuilt.
func TestDecodeBounds(t *testing.T) {
	many := func(item string, n int) string { return "[" + strings.Repeat(item+",", n-1) + item + "]" }
	var in ecs.RegisterTaskDefinitionInput
	ok := `{"x":` + many("0", 200_000) + `,"y":{"z":[[{}]]},"family":"f","containerDefinitions":` + many("{}", awsproto.MaxItems) + `}`
	if err := (Codec{}).Decode([]byte(ok), &in); err != nil || *in.Family != "f" || len(in.ContainerDefinitions) != awsproto.MaxItems {
		t.Fatalf("Decode = %v", err)
	}
	for name, body := range map[string]string{
		"long list":      `{"containerDefinitions":` + many("{}", awsproto.MaxItems+1) + `}`,
		"long map":       `{"tags":[],"containerDefinitions":[{"dockerLabels":{` + strings.TrimSuffix(strings.Repeat(`"a":"b",`, awsproto.MaxItems+1), ",") + `}}]}`,
		"deep unknown":   `{"x":` + strings.Repeat("[", awsproto.MaxDepth+5) + strings.Repeat("]", awsproto.MaxDepth+5) + `}`,
		"over budget":    `{"containerDefinitions":` + many(`{"portMappings":`+many("{}", 9000)+`}`, 200) + `}`,
		"bad unknown":    `{"x":[1,2,}`,
		"bad number":     `{"x":01}`,
		"control in str": "{\"family\":\"a\tb\"}",
	} {
		var in ecs.RegisterTaskDefinitionInput
		if err := (Codec{}).Decode([]byte(body), &in); !isSerialization(err) {
			t.Errorf("%s: Decode = %v, want SerializationException", name, err)
		}
	}
}
