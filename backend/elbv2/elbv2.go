// Package elbv2 is the Elastic Load Balancing v2 control plane.
package elbv2

import (
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the ELBv2 API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
}

// New returns an ELBv2 backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}
