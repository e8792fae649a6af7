// Package secretsmanager is AWS Secrets Manager: secrets with their
// versions and staging labels, tags and resource policies. berth stores
// values as given (no KMS) and does not rotate secrets.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/Welcome.html
//
// Every exported method with an SDK input is one Secrets Manager
// operation with the SDK client's signature minus its options.
package secretsmanager

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

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

// kindSecret is a secret with its versions, stored under its name; each
// version's value has a row of its own (kindValue).
const kindSecret = "secretsmanager/secret"

// secret is a stored secret.
type secret struct {
	ARN, Name, Description, KmsKeyID string
	Tags                             []types.Tag
	Policy                           string
	Created, LastChanged             time.Time
	// LastAccessed is the day (UTC midnight) of the last GetSecretValue,
	// as AWS reports it; zero before the first.
	LastAccessed time.Time
	// Deleted is when DeleteSecret scheduled the deletion, Purge when the
	// secret goes for good; both zero for a live secret.
	Deleted, Purge time.Time
	// Versions are in creation order.
	Versions []version
}

// version is one value of a secret with its staging labels; a version
// without labels is deprecated. String and Binary are its value until it
// is stored: then the value moves to a row of its own (see put).
type version struct {
	ID      string
	String  *string `json:",omitempty"`
	Binary  []byte  `json:",omitempty"`
	Stages  []string
	Created time.Time
}

// scheduled reports whether the secret waits for deletion.
func (s *secret) scheduled() bool { return !s.Deleted.IsZero() }

// gone reports whether the secret's recovery window has passed at now: it
// no longer exists, though its row may remain until a write removes it.
func (s *secret) gone(now time.Time) bool { return !s.Purge.IsZero() && !now.Before(s.Purge) }

// find returns the secret that id names in scope s (an ARN's own region
// wins), its store key, or ResourceNotFoundException. A secret whose
// recovery window has passed is not found. An ARN of another account is
// AccessDeniedException: AWS lets another account in only through a
// resource policy and a customer managed KMS key, and berth evaluates
// neither, so it grants no cross-account access.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
func find(tx *sqlite.Tx, s backend.Scope, id string, now time.Time) (secret, sqlite.Key, error) {
	var sec secret
	for _, c := range candidates(s, id) {
		if c.scope.Account != s.Account {
			return secret{}, sqlite.Key{}, errCrossAccount(s, id)
		}
		k := c.scope.Key(kindSecret, c.name)
		err := tx.Get(k, &sec)
		if errors.Is(err, sqlite.ErrNotFound) {
			continue
		}
		if err != nil {
			return sec, k, err
		}
		if (c.arn != "" && sec.ARN != c.arn) || sec.gone(now) {
			continue
		}
		return sec, k, nil
	}
	return secret{}, sqlite.Key{}, errNotFound()
}

// live is find for the operations that refuse a secret scheduled for
// deletion.
func live(tx *sqlite.Tx, s backend.Scope, id string, now time.Time) (secret, sqlite.Key, error) {
	sec, k, err := find(tx, s, id, now)
	if err == nil && sec.scheduled() {
		err = errMarkedDeleted()
	}
	return sec, k, err
}

// now is the backend's clock in UTC. Stored times keep its precision, so
// that secrets created in one millisecond still list in creation order;
// date answers them to the millisecond, as AWS does.
func (b *Backend) now() time.Time { return b.env.Clock().UTC() }

// date is t as the API answers it.
func date(t time.Time) *time.Time {
	t = t.Truncate(time.Millisecond)
	return &t
}
