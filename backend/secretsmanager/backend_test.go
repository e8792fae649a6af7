package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

var scope = backend.Scope{Account: "000000000000", Region: "us-east-1"}

// newBackend is a backend over a fresh store whose clock now sets.
func newBackend(t *testing.T) (*Backend, context.Context, *atomic.Pointer[time.Time]) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var now atomic.Pointer[time.Time]
	start := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	now.Store(&start)
	b := New(store, backend.Env{Clock: func() time.Time { return *now.Load() }, IDs: &backend.SequentialIDs{}})
	return b, backend.WithScope(context.Background(), scope), &now
}

func TestSecretString(t *testing.T) {
	b, ctx, _ := newBackend(t)
	created, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("two")}); err != nil {
		t.Fatal(err)
	}
	other := backend.Scope{Account: scope.Account, Region: "eu-west-1"}
	for _, tc := range []struct {
		s                    backend.Scope
		id, stage, versionID string
		want                 string
	}{
		{scope, "db", "", "", "two"},
		{scope, "db", "AWSPREVIOUS", "", "one"},
		{scope, "db", "", *created.VersionId, "one"},
		{other, *created.ARN, "", "", "two"}, // the ARN's region wins
		{other, (*created.ARN)[:len(*created.ARN)-7], "", "", "two"},
	} {
		if got, err := b.SecretString(ctx, tc.s, tc.id, tc.stage, tc.versionID); err != nil || got != tc.want {
			t.Errorf("SecretString(%s, %q, %q) = %q, %v; want %q", tc.id, tc.stage, tc.versionID, got, err, tc.want)
		}
	}
	if _, err := b.SecretString(ctx, other, "db", "", ""); !awsproto.HasCode(err, &types.ResourceNotFoundException{}) {
		t.Errorf("in another scope: %v", err)
	}
	// Another account reaches a secret only through its resource policy
	// and a customer managed key, neither of which berth evaluates.
	// https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
	stranger := backend.Scope{Account: "111111111111", Region: scope.Region}
	for _, id := range []string{*created.ARN, (*created.ARN)[:len(*created.ARN)-7]} {
		var ae *awsproto.Error
		if _, err := b.SecretString(ctx, stranger, id, "", ""); !errors.As(err, &ae) || ae.Code != "AccessDeniedException" {
			t.Errorf("another account, %s: %v", id, err)
		}
	}
	if _, err := b.SecretString(ctx, scope, "db", "AWSPENDING", ""); !awsproto.HasCode(err, &types.ResourceNotFoundException{}) {
		t.Errorf("missing stage: %v", err)
	}
	if _, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	// The ECS agent reads a binary secret's missing SecretString as "".
	if v, err := b.SecretString(ctx, scope, "bin", "", ""); err != nil || v != "" {
		t.Errorf("binary: %q, %v", v, err)
	}
	if _, err := b.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SecretString(ctx, scope, "db", "", ""); !awsproto.HasCode(err, &types.InvalidRequestException{}) {
		t.Errorf("scheduled for deletion: %v", err)
	}
}

// LastAccessedDate is the day of the last read: one write a day at most.
func TestLastAccessedDate(t *testing.T) {
	b, ctx, now := newBackend(t)
	if _, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	accessed := func() time.Time {
		d, err := b.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToTime(d.LastAccessedDate)
	}
	if !accessed().IsZero() {
		t.Fatal("LastAccessedDate before any read")
	}
	b.SecretString(ctx, scope, "db", "", "")
	if got := accessed(); !got.Equal(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("LastAccessedDate = %v", got)
	}
	// A write drops the secret's cached body, which the reads above cached.
	cached, _ := b.store.CacheStats()
	b.SecretString(ctx, scope, "db", "", "")
	if again, _ := b.store.CacheStats(); again != cached {
		t.Fatalf("a second read the same day wrote (%d cached bodies, then %d)", cached, again)
	}
	next := now.Load().Add(24 * time.Hour)
	now.Store(&next)
	b.SecretString(ctx, scope, "db", "", "")
	if got := accessed(); !got.Equal(time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("LastAccessedDate the next day = %v", got)
	}
}

// A secret scheduled for deletion is gone once its recovery window has
// passed on berth's clock, and its name is free.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
func TestRecoveryWindowEnds(t *testing.T) {
	b, ctx, now := newBackend(t)
	first, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("db"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	later := now.Load().Add(7*24*time.Hour - time.Second)
	now.Store(&later)
	if _, err := b.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}); err != nil {
		t.Fatalf("within the window: %v", err)
	}
	later = later.Add(time.Second)
	now.Store(&later)
	if _, err := b.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}); !awsproto.HasCode(err, &types.ResourceNotFoundException{}) {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := b.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("db")}); !awsproto.HasCode(err, &types.ResourceNotFoundException{}) {
		t.Fatalf("restore after the window: %v", err)
	}
	list, err := b.ListSecrets(ctx, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	if err != nil || len(list.SecretList) != 0 {
		t.Fatalf("ListSecrets = %+v, %v", list, err)
	}
	if n, err := b.Purge(ctx); n != 1 || err != nil {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	second, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db")})
	if err != nil || *second.ARN == *first.ARN {
		t.Fatalf("CreateSecret again = %v, %v", second, err)
	}
	if n, err := b.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("Purge of a live secret = %d, %v", n, err)
	}
}

// "If this operation creates the first version for the secret, then Secrets
// Manager automatically attaches the staging label AWSCURRENT to it."
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
func TestFirstVersionIsCurrent(t *testing.T) {
	b, ctx, _ := newBackend(t)
	if _, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("empty")}); err != nil {
		t.Fatal(err)
	}
	first, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("empty"), SecretString: aws.String("a"), VersionStages: []string{"blue"}})
	if err != nil || !slices.Equal(first.VersionStages, []string{"blue", "AWSCURRENT"}) {
		t.Fatalf("first version = %+v, %v", first, err)
	}
	second, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("empty"), SecretString: aws.String("b"), VersionStages: []string{"green"}})
	if err != nil || !slices.Equal(second.VersionStages, []string{"green"}) {
		t.Fatalf("second version = %+v, %v", second, err)
	}
	if got, _ := b.SecretString(ctx, scope, "empty", "", ""); got != "a" {
		t.Fatalf("AWSCURRENT = %q, want the first version's", got)
	}
}

// TestStagingLabelQuota: a secret's versions carry at most 20 staging
// labels together, however they are attached; the quota bounds the
// secret's size whatever a client does.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
// ("Staging labels attached across all versions of a secret: 20").
func TestStagingLabelQuota(t *testing.T) {
	b, ctx, _ := newBackend(t)
	created, err := b.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	label := func(i int) *string { return aws.String(fmt.Sprintf("L%d", i)) }
	for i := 2; i <= 20; i++ { // AWSCURRENT and 19 more
		if _, err := b.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("db"), VersionStage: label(i), MoveToVersionId: created.VersionId}); err != nil {
			t.Fatalf("label %d: %v", i, err)
		}
	}
	_, err = b.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("db"), VersionStage: label(21), MoveToVersionId: created.VersionId})
	if !awsproto.HasCode(err, &types.LimitExceededException{}) {
		t.Fatalf("the 21st label: %v", err)
	}
	// A new version takes AWSCURRENT and puts AWSPREVIOUS on the old one:
	// 21 labels.
	_, err = b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("two")})
	if !awsproto.HasCode(err, &types.LimitExceededException{}) {
		t.Fatalf("a new version over the quota: %v", err)
	}
	// Moving a label keeps the count; the refused calls changed nothing.
	put, err := b.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("two"), VersionStages: []string{"L2"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(got.VersionIdsToStages[*created.VersionId]), len(got.VersionIdsToStages[*put.VersionId]); n != 19 || m != 1 {
		t.Fatalf("labels: %d on the first version, %d on the second; want 19 and 1", n, m)
	}
}
