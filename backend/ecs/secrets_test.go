package ecs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
	"berth/backend"
)

// fakeParameters and fakeSecrets stand in for the two stores: the logic
// under test is how the agent picks values and words failures.
type fakeParameters map[string]string

func (f fakeParameters) Value(_ context.Context, _ backend.Scope, name string) (string, error) {
	if v, ok := f[name]; ok {
		return v, nil
	}
	return "", awsproto.Modeled(&ssmtypes.ParameterNotFound{}, "Parameter %s not found.", name)
}

type fakeSecrets map[string]string // by "arn|stage|version"

func (f fakeSecrets) SecretString(_ context.Context, _ backend.Scope, id, stage, version string) (string, error) {
	if v, ok := f[id+"|"+stage+"|"+version]; ok {
		return v, nil
	}
	return "", awsproto.Modeled(&smtypes.ResourceNotFoundException{}, "Secrets Manager can't find the specified secret.")
}

const dbSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"

// TestParseSecretSelector: the valueFrom forms of the ECS developer
// guide, arn:...:secret:name:json-key:version-stage:version-id, with
// empty parts left out.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
func TestParseSecretSelector(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want secretSelector
	}{
		{dbSecret, secretSelector{arn: dbSecret}},
		{dbSecret + ":username::", secretSelector{arn: dbSecret, jsonKey: "username"}},
		{dbSecret + "::AWSPREVIOUS:", secretSelector{arn: dbSecret, versionStage: "AWSPREVIOUS"}},
		{dbSecret + ":password::0e5b9b9a-1d2c-4a1f-8f46-6f8e1f6d2b11", secretSelector{arn: dbSecret, jsonKey: "password", versionID: "0e5b9b9a-1d2c-4a1f-8f46-6f8e1f6d2b11"}},
	} {
		if got, ok := parseSecretSelector(tc.in); !ok || got != tc.want {
			t.Errorf("parseSecretSelector(%q) = %+v, %v, want %+v", tc.in, got, ok, tc.want)
		}
	}
	// The agent takes the ARN alone or with all three parts.
	for _, bad := range []string{dbSecret + ":password", dbSecret + ":a:b", "arn:aws:secretsmanager:us-east-1:123456789012:secret"} {
		if _, ok := parseSecretSelector(bad); ok {
			t.Errorf("parseSecretSelector(%q) accepted", bad)
		}
	}
}

func secretsTask(containers ...types.ContainerDefinition) (types.Task, types.TaskDefinition) {
	return types.Task{}, types.TaskDefinition{ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"), ContainerDefinitions: containers}
}

func secret(name, valueFrom string) types.Secret {
	return types.Secret{Name: aws.String(name), ValueFrom: aws.String(valueFrom)}
}

func TestResolveSecrets(t *testing.T) {
	b := &Backend{
		Parameters: fakeParameters{"/app/db-host": "db.internal", "arn:aws:ssm:us-east-1:123456789012:parameter/app/token": "s3cr3t"},
		Secrets: fakeSecrets{
			dbSecret + "||":            `{"username":"admin","password":"hunter2","port":5432,"big":1000000}`,
			dbSecret + "|AWSPREVIOUS|": `{"username":"admin","password":"old"}`,
		},
	}
	s := backend.Scope{Account: "123456789012", Region: "us-east-1"}
	app := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("app"), Secrets: []types.Secret{
		secret("DB_HOST", "/app/db-host"),
		secret("TOKEN", "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"),
		secret("DB", dbSecret),
		secret("DB_PASSWORD", dbSecret+":password::"),
		secret("DB_PORT", dbSecret+":port::"),
		secret("BIG", dbSecret+":big::"),
		secret("DB_OLD_PASSWORD", dbSecret+":password:AWSPREVIOUS:"),
	}, LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverSplunk, SecretOptions: []types.Secret{secret("splunk-token", "/app/db-host")}}}
	other := types.ContainerDefinition{Name: aws.String("other"), Image: aws.String("other"), Secrets: []types.Secret{secret("MISSING", "/nowhere")}}
	task, td := secretsTask(app, other)

	got, err := b.resolveSecrets(context.Background(), s, task, td, []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	// Values that are not strings as the agent formats them (%v).
	want := []string{"DB_HOST=db.internal", "TOKEN=s3cr3t", `DB={"username":"admin","password":"hunter2","port":5432,"big":1000000}`,
		"DB_PASSWORD=hunter2", "DB_PORT=5432", "BIG=1e+06", "DB_OLD_PASSWORD=old"}
	if !slices.Equal(got["app"].env, want) {
		t.Errorf("env = %q, want %q", got["app"].env, want)
	}
	if got["app"].logOptions["splunk-token"] != "db.internal" {
		t.Errorf("log options = %v", got["app"].logOptions)
	}
	if _, ok := got["other"]; ok {
		t.Error("a container that is not created again got secrets")
	}

	// Failures, as ECS words them (field reports cited in secrets.go).
	for _, tc := range []struct {
		name string
		cd   types.ContainerDefinition
		want string
	}{
		{"missing parameters", types.ContainerDefinition{Name: aws.String("c"), Secrets: []types.Secret{secret("A", "/nowhere"), secret("B", "/app/db-host"), secret("C", "/gone")}},
			secretsFailed + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: /nowhere /gone"},
		{"missing secret", types.ContainerDefinition{Name: aws.String("c"), Secrets: []types.Secret{secret("A", dbSecret+"x")}},
			secretsFailed + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret " + dbSecret + "x from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."},
		{"missing key", types.ContainerDefinition{Name: aws.String("c"), Secrets: []types.Secret{secret("A", dbSecret+":MY_SECRET::")}},
			secretsFailed + "unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key MY_SECRET"},
		{"missing registry secret", types.ContainerDefinition{Name: aws.String("c"), Image: aws.String("registry.example.com/app"), RepositoryCredentials: &types.RepositoryCredentials{CredentialsParameter: aws.String(dbSecret + "x")}},
			secretsFailed + "unable to get registry auth from asm: service call has been retried 1 time(s): asm fetching secret from the service for " + dbSecret + "x: ResourceNotFoundException: Secrets Manager can't find the specified secret."},
	} {
		task, td := secretsTask(tc.cd)
		_, err := b.resolveSecrets(context.Background(), s, task, td, []string{"c"})
		var f *failure
		if !errors.As(err, &f) || f.reason != tc.want || f.code != types.TaskStopCodeTaskFailedToStart {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}

	// A secret that is not JSON, asked for a key: the reason never
	// carries the secret's text.
	b.Secrets = fakeSecrets{dbSecret + "||": "not json: hunter2"}
	task, td = secretsTask(types.ContainerDefinition{Name: aws.String("c"), Secrets: []types.Secret{secret("A", dbSecret+":password::")}})
	if _, err := b.resolveSecrets(context.Background(), s, task, td, []string{"c"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
}

// TestRegistryAuth: repositoryCredentials' secret holds username and
// password; the Docker Engine gets them with the image's registry.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html
func TestRegistryAuth(t *testing.T) {
	b := &Backend{Secrets: fakeSecrets{dbSecret + "||": `{"username":"ci","password":"p4ss"}`}}
	s := backend.Scope{Account: "123456789012", Region: "us-east-1"}
	for image, server := range map[string]string{
		"registry.example.com/team/app:1": "registry.example.com",
		"127.0.0.1:5000/app":              "127.0.0.1:5000",
		"nginx:latest":                    "https://index.docker.io/v1/",
		"library/nginx":                   "https://index.docker.io/v1/",
	} {
		auth, err := b.registryAuth(context.Background(), s, dbSecret, image)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.URLEncoding.DecodeString(auth)
		var got map[string]string
		json.Unmarshal(raw, &got)
		if got["username"] != "ci" || got["password"] != "p4ss" || got["serveraddress"] != server {
			t.Errorf("%s: auth = %v", image, got)
		}
	}
	b.Secrets = fakeSecrets{dbSecret + "||": `{"user":"ci"}`}
	if _, err := b.registryAuth(context.Background(), s, dbSecret, "nginx"); err == nil {
		t.Error("a secret without username and password gave credentials")
	}
}

// TestSecretsNeedAnExecutionRole: RegisterTaskDefinition refuses secrets
// without an execution role, with ECS's ClientException (reports cited
// in secrets.go).
func TestSecretsNeedAnExecutionRole(t *testing.T) {
	c := types.ContainerDefinition{Name: aws.String("app"), Secrets: []types.Secret{secret("A", "/a")}}
	err := validSecrets([]types.ContainerDefinition{c}, "")
	if !awsproto.HasCode(err, &types.ClientException{}) || !strings.Contains(err.Error(), "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.") {
		t.Errorf("err = %v", err)
	}
	if err := validSecrets([]types.ContainerDefinition{c}, "arn:aws:iam::123456789012:role/x"); err != nil {
		t.Error(err)
	}
	c.Secrets = []types.Secret{{Name: aws.String("A")}}
	if err := validSecrets([]types.ContainerDefinition{c}, "arn:aws:iam::123456789012:role/x"); err == nil {
		t.Error("a secret without valueFrom was accepted")
	}
}

func TestWithSecrets(t *testing.T) {
	got := withSecrets([]string{"A=1", "B=2"}, []string{"B=secret", "C=3"})
	if want := []string{"A=1", "B=secret", "C=3"}; !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
}

// TestRedact: the secret values a task's containers got never show in a
// stop reason or a log line, also where the Docker Engine quotes a
// container's environment in an error, as runc does for a value with a
// NUL byte: `environment variable value can't contain null(\x00):
// "S=pw\x00tail"`.
func TestRedact(t *testing.T) {
	cs := containerSecrets{env: []string{"S=pw\x00tail", "T=a\"b"}, logOptions: map[string]string{"token": "splunk-tok"}}
	secrets := cs.values()
	for _, tc := range []struct{ msg, want string }{
		{`error during container init: environment variable value can't contain null(\x00): "S=pw\x00tail": unknown`,
			`error during container init: environment variable value can't contain null(\x00): "S=********": unknown`},
		{"raw S=pw\x00tail and T=a\"b", "raw S=******** and T=********"},
		{`json "T=a\"b"`, `json "T=********"`},
		{"failed to initialize logging driver: token splunk-tok refused", "failed to initialize logging driver: token ******** refused"},
		{"nothing secret", "nothing secret"},
	} {
		if got := redact(tc.msg, secrets); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
	// A secret inside a longer one goes with the longer one.
	if got := redact("abcdef", []string{"cd", "abcdef"}); got != redacted {
		t.Errorf("nested: %q", got)
	}
}
