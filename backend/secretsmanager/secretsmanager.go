// Package secretsmanager is AWS Secrets Manager: secrets with their
// versions and staging labels, tags and resource policies.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/Welcome.html
//
// Every exported method with an SDK input is one Secrets Manager
// operation with the SDK client's signature minus its options.
package secretsmanager

import (
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the Secrets Manager API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
}

// New returns a Secrets Manager backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}
