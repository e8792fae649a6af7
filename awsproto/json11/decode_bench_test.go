package json11

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// BenchmarkDecodeTaskDefinition decodes a RegisterTaskDefinition of ten
// containers with environments, port mappings and labels.
func BenchmarkDecodeTaskDefinition(b *testing.B) {
	var containers []string
	for i := range 10 {
		containers = append(containers, fmt.Sprintf(`{"name":"c%d","image":"nginx:latest","memory":128,"essential":true,
			"environment":[{"name":"A","value":"1"},{"name":"B","value":"two \u00e9"}],
			"portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}],"dockerLabels":{"a":"b","c":"d"},
			"command":["sh","-c","echo hello"],"unknownMember":{"x":[1,2,3]}}`, i))
	}
	body := []byte(`{"family":"web","networkMode":"bridge","containerDefinitions":[` + strings.Join(containers, ",") + `]}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var in ecs.RegisterTaskDefinitionInput
		if err := (Codec{}).Decode(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}
