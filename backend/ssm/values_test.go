package ssm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/sqlite"
)

// stats are the size of the stored row of parameter name and how many
// value rows it has.
func stats(t *testing.T, b *Backend, ctx context.Context, name string) (size, values int) {
	t.Helper()
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var raw json.RawMessage
		if err := tx.Get(scope.Key(kindParameter, name), &raw); err == nil {
			size = len(raw)
		}
		var err error
		values, err = tx.Count(scope.Query(kindValue, name))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return size, values
}

// TestValuesStoredApart: a parameter at its quotas, 100 versions of 8 KB
// (https://docs.aws.amazon.com/general/latest/gr/ssm.html#limits_ssm),
// is a small row and a row per kept value; every read still answers the
// value it names, and deleting the parameter removes its values.
func TestValuesStoredApart(t *testing.T) {
	b, ctx := newBackend(t)
	value := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), maxAdvancedSize) }
	for i := 1; i <= maxVersions+5; i++ {
		in := &ssmapi.PutParameterInput{Name: aws.String("/big/p"), Value: aws.String(value(i)), Overwrite: aws.Bool(i > 1), Tier: types.ParameterTierAdvanced}
		if i == 1 {
			in.Type = types.ParameterTypeSecureString
		}
		if _, err := b.PutParameter(ctx, in); err != nil {
			t.Fatal(i, err)
		}
	}
	// The row keeps the versions' metadata, a few hundred bytes each;
	// with the values it would be 100 times 8 KB.
	if size, values := stats(t, b, ctx, "/big/p"); size > 4*maxAdvancedSize || values != maxVersions {
		t.Fatalf("the parameter's row has %d bytes and %d value rows; want under %d and %d", size, values, 4*maxAdvancedSize, maxVersions)
	}
	// The oldest version kept is 6: 1 to 5 went with their values.
	got, err := b.GetParameter(ctx, &ssmapi.GetParameterInput{Name: aws.String("/big/p:6"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(got.Parameter.Value) != value(6) {
		t.Fatalf("version 6: %v", err)
	}
	if v, err := b.Value(ctx, scope, "/big/p"); err != nil || v != value(maxVersions+5) {
		t.Fatalf("Value: %v", err)
	}
	byPath, err := b.GetParametersByPath(ctx, &ssmapi.GetParametersByPathInput{Path: aws.String("/big"), WithDecryption: aws.Bool(true)})
	if err != nil || len(byPath.Parameters) != 1 || aws.ToString(byPath.Parameters[0].Value) != value(maxVersions+5) {
		t.Fatalf("GetParametersByPath: %v", err)
	}
	history, err := b.GetParameterHistory(ctx, &ssmapi.GetParameterHistoryInput{Name: aws.String("/big/p"), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(2)})
	if err != nil || len(history.Parameters) != 2 || aws.ToString(history.Parameters[1].Value) != value(7) {
		t.Fatalf("GetParameterHistory: %v", err)
	}
	// Without decryption a SecureString's stand-in ciphertext is the same
	// as before its value moved out: it is computed from the value.
	enc, err := b.GetParameter(ctx, &ssmapi.GetParameterInput{Name: aws.String("/big/p:6")})
	if err != nil || aws.ToString(enc.Parameter.Value) == value(6) || aws.ToString(enc.Parameter.Value) == "" {
		t.Fatalf("ciphertext: %v", err)
	}
	if _, err := b.DeleteParameter(ctx, &ssmapi.DeleteParameterInput{Name: aws.String("/big/p")}); err != nil {
		t.Fatal(err)
	}
	if _, values := stats(t, b, ctx, "/big/p"); values != 0 {
		t.Fatalf("%d value rows outlive the parameter", values)
	}
}
