package awsproto

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/smithy-go/middleware"
)

// Field is one serialisable member of an SDK struct.
type Field struct {
	Index int
	// GoName is the SDK's Go field name. The SDK generator names every field
	// after the Smithy member, so wire names are derived from it rather than
	// typed by hand: query members use it as is, JSON members lower its first
	// letter (checked against the SDK schemas in json11's tests).
	GoName string
	Type   reflect.Type
}

// JSONName is the AWS JSON member name of the field.
func (f Field) JSONName() string { return lowerFirst(f.GoName) }

var (
	timeType     = reflect.TypeFor[time.Time]()
	metadataType = reflect.TypeFor[middleware.Metadata]()
	fieldCache   sync.Map // reflect.Type -> []Field; a memo of immutable facts, like encoding/json's
)

// IsTime reports whether t is time.Time.
func IsTime(t reflect.Type) bool { return t == timeType }

// Fields lists the wire members of the SDK struct type t: exported fields,
// without the SDK's result metadata.
func Fields(t reflect.Type) []Field {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]Field)
	}
	var fs []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous || sf.Type == metadataType {
			continue
		}
		fs = append(fs, Field{Index: i, GoName: sf.Name, Type: sf.Type})
	}
	fieldCache.Store(t, fs)
	return fs
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// SortedKeys returns the keys of the string-keyed map m in order, so that
// encoded maps are byte-for-byte stable.
func SortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// Unset reports whether a member is absent from the wire: a nil pointer,
// slice, map or interface, or an empty enum (the SDK's only value strings).
// Other value members (counts, flags) are always present, as AWS sends them.
func Unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}
