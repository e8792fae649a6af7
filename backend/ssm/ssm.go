// Package ssm is the Parameter Store of AWS Systems Manager: parameters
// with their versions, labels and tags, and the AWS public parameters
// under /aws/service/ that ECS stacks read.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/Welcome.html
//
// Every exported method with an SDK input is one SSM operation with the
// SDK client's signature minus its options.
package ssm

import (
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the Parameter Store API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
}

// New returns a Parameter Store backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}
