package server

import (
	"context"
	"reflect"
)

// operation is one API operation served by a backend method with the SDK
// client's signature minus its options:
//
//	func (b *Backend) CreateCluster(context.Context, *ecs.CreateClusterInput) (*ecs.CreateClusterOutput, error)
type operation struct {
	method reflect.Value
	input  reflect.Type // the input struct type, not its pointer
	valid  validator    // the service's input validation
}

// call decodes a new input with decode and runs the operation.
func (op operation) call(ctx context.Context, decode func(any) error) (any, error) {
	in := reflect.New(op.input)
	if err := decode(in.Interface()); err != nil {
		return nil, err
	}
	// Input validation comes before anything the operation looks up, as
	// in AWS.
	if err := op.valid.check(in); err != nil {
		return nil, err
	}
	res := op.method.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if err, _ := res[1].Interface().(error); err != nil {
		return nil, err
	}
	return res[0].Interface(), nil
}

// table maps operation names to operations.
type table struct {
	ops map[string]operation
	// known holds every operation the SDK client has, so that an operation
	// berth does not serve gets a clear "not supported" rather than an
	// unknown-operation error.
	known map[string]bool
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// newTable builds the operation table of a service from its SDK client
// (whose methods name every operation) and the backend that serves it.
// Operation names are thus never typed by hand: they are the SDK's.
func newTable(client, backend any, valid validator) table {
	t := table{ops: map[string]operation{}, known: map[string]bool{}}
	ct, bt, bv := reflect.TypeOf(client), reflect.TypeOf(backend), reflect.ValueOf(backend)
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		// func(client, ctx, *Input, ...func(*Options)) (*Output, error)
		if m.Type.NumIn() != 4 || !m.Type.IsVariadic() || m.Type.In(1) != contextType || m.Type.NumOut() != 2 {
			continue
		}
		in, out := m.Type.In(2), m.Type.Out(0)
		if in.Kind() != reflect.Pointer || out.Kind() != reflect.Pointer || m.Type.Out(1) != errorType {
			continue
		}
		t.known[m.Name] = true
		bm, ok := bt.MethodByName(m.Name)
		if !ok {
			continue
		}
		want := reflect.FuncOf([]reflect.Type{bt, contextType, in}, []reflect.Type{out, errorType}, false)
		if bm.Type != want {
			panic("server: " + bt.String() + "." + m.Name + " does not have the SDK operation's signature")
		}
		t.ops[m.Name] = operation{method: bv.Method(bm.Index), input: in.Elem(), valid: valid}
	}
	return t
}
