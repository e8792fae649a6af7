package ecs

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/rs/zerolog"

	"berth/backend"
)

// TestCredentialsIDNeedsTheSecret: the credentials URI of a task is the
// only thing the task endpoint asks of a caller for the role's
// credentials, so it must not follow from what others can know: the task
// ARN and the instance id (which /_berth/health answers to anyone). It
// used to be a hash of those two alone. It stays the same for the same
// secret (a restart) and is a UUID, as the ECS agent's
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html:
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is /v2/credentials/<uuid>).
func TestCredentialsIDNeedsTheSecret(t *testing.T) {
	const instance = "0123456789abcdef"
	arn := "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef"
	id := NewAgent(nil, nil, Host{Instance: instance}, []byte("secret one"), zerolog.Nop()).credentialsID(arn)
	public := sha256.Sum256([]byte(instance + "\x00" + arn))
	if id == backend.UUID(hex.EncodeToString(public[:16])) {
		t.Fatal("the credentials id follows from the instance id and the task ARN")
	}
	if other := NewAgent(nil, nil, Host{Instance: instance}, []byte("secret two"), zerolog.Nop()).credentialsID(arn); other == id {
		t.Fatal("two secrets give the same credentials id")
	}
	if again := NewAgent(nil, nil, Host{Instance: instance}, []byte("secret one"), zerolog.Nop()).credentialsID(arn); again != id {
		t.Fatalf("the same secret gives %s, then %s", id, again)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("credentials id %q is not a UUID", id)
	}
}
