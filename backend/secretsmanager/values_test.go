package secretsmanager

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"berth/sqlite"
)

// rowSize is the size of the stored secret row called name, and how many
// value rows the secret arn has.
func rowSize(t *testing.T, b *Backend, ctx context.Context, name, arn string) (size, values int) {
	t.Helper()
	k := scope.Key(kindSecret, name)
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var raw json.RawMessage
		if err := tx.Get(k, &raw); err == nil {
			size = len(raw)
		}
		var err error
		values, err = tx.Count(valuesOf(k, arn))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return size, values
}

// TestValuesStoredApart: a secret at its quotas, 100 versions of 64 KiB
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html),
// is a small row and a row per value, so that reading one version or
// listing secrets decodes no other value; deleting the secret, at once or
// at the end of its recovery window, removes its values too.
func TestValuesStoredApart(t *testing.T) {
	b, ctx, now := newBackend(t)
	value := func(i int) *string { return aws.String(strings.Repeat(string(rune('a'+i%26)), maxValue)) }
	created, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("big"), SecretString: value(0)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < maxVersions; i++ {
		if _, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("big"), SecretString: value(i)}); err != nil {
			t.Fatal(i, err)
		}
	}
	if size, values := rowSize(t, b, ctx, "big", *created.ARN); size > maxValue || values != maxVersions {
		t.Fatalf("the secret's row has %d bytes and %d value rows; want under %d and %d", size, values, maxValue, maxVersions)
	}
	first, err := b.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("big"), VersionId: created.VersionId})
	if err != nil || aws.ToString(first.SecretString) != *value(0) {
		t.Fatalf("the first version: %v", err)
	}
	current, err := b.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("big")})
	if err != nil || aws.ToString(current.SecretString) != *value(maxVersions - 1) {
		t.Fatalf("the current version: %v", err)
	}
	// The same request again is still recognised by its value.
	if _, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("big"), SecretString: value(0), ClientRequestToken: created.VersionId}); err != nil {
		t.Fatalf("the first version's request again: %v", err)
	}
	if _, err := b.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("big"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, values := rowSize(t, b, ctx, "big", *created.ARN); values != 0 {
		t.Fatalf("%d value rows outlive the secret", values)
	}

	// A secret past its recovery window: a new secret of its name, or the
	// purge, removes its values.
	for name, purge := range map[string]bool{"recreated": false, "purged": true} {
		old, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("pw")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		later := now.Load().Add(8 * 24 * time.Hour)
		now.Store(&later)
		if purge {
			if _, err := b.Purge(ctx); err != nil {
				t.Fatal(err)
			}
		} else if _, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("new")}); err != nil {
			t.Fatal(err)
		}
		if _, values := rowSize(t, b, ctx, name, *old.ARN); values != 0 {
			t.Fatalf("%s: %d value rows outlive the secret", name, values)
		}
	}
}
