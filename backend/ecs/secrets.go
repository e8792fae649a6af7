package ecs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
	"berth/backend"
)

// ParameterStore is SSM Parameter Store as the agent reads it at task
// start; the ssm backend satisfies it.
type ParameterStore interface {
	// Value returns the value of the parameter name selects (a name or
	// ARN, with an optional :version or :label selector) in scope s, a
	// SecureString decrypted.
	Value(ctx context.Context, s backend.Scope, name string) (string, error)
}

// SecretStore is Secrets Manager as the agent reads it at task start;
// the secretsmanager backend satisfies it.
type SecretStore interface {
	// SecretString returns the SecretString of the version of secret id
	// that versionID, else versionStage, else AWSCURRENT picks.
	SecretString(ctx context.Context, s backend.Scope, id, versionStage, versionID string) (string, error)
}

// secretsFailed is how the agent begins the stop reason of a task whose
// secrets or registry credentials it could not read, as users report
// it: https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets
const secretsFailed = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "

// containerSecrets are what one container gets from the secret stores at
// task start. They live in the runner's memory and the container's
// environment only: never in the task record, never in a log.
type containerSecrets struct {
	env          []string          // NAME=value, from secrets
	logOptions   map[string]string // from the log configuration's secretOptions
	registryAuth string            // X-Registry-Auth, from repositoryCredentials
}

// values are the secret values in cs: its variables' values and its log
// options'.
func (cs containerSecrets) values() []string {
	var out []string
	for _, kv := range cs.env {
		_, v, _ := strings.Cut(kv, "=")
		out = append(out, v)
	}
	for _, v := range cs.logOptions {
		out = append(out, v)
	}
	return out
}

// redacted stands for a secret value taken out of a message.
const redacted = "********"

// redact replaces in msg every secret of secrets, as it is and as Go and
// JSON quote it: the Docker Engine quotes a container's environment in
// some of its errors (an environment variable it refuses, for one), and
// those errors become stop reasons and log lines, which must never show
// a secret.
func redact(msg string, secrets []string) string {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		quoted := strconv.Quote(s)
		encoded, _ := json.Marshal(s)
		forms = append(forms, s, quoted[1:len(quoted)-1], string(encoded[1:len(encoded)-1]))
	}
	// The longest first, so that a secret inside another goes with it.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		msg = strings.ReplaceAll(msg, f, redacted)
	}
	return msg
}

// secretRef is one secret a container asks for: the environment variable
// or log option it sets, and where its value comes from.
type secretRef struct {
	container, name, valueFrom string
	logOption                  bool
}

// executionRole is the role the agent reads a task's secrets with: the
// override's, or the task definition's.
func executionRole(t types.Task, td types.TaskDefinition) string {
	if o := t.Overrides; o != nil && aws.ToString(o.ExecutionRoleArn) != "" {
		return *o.ExecutionRoleArn
	}
	return aws.ToString(td.ExecutionRoleArn)
}

// resolveSecrets reads, with the task's execution role, the secrets,
// secret log options and registry credentials of the named containers, as
// the ECS agent does before it creates any: SSM parameters first, then
// Secrets Manager secrets, then registry credentials. A parameter or
// secret that is missing, or a JSON key a secret lacks, is a failure
// worded as ECS words it.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
func (b *Backend) resolveSecrets(ctx context.Context, s backend.Scope, t types.Task, td types.TaskDefinition, containers []string) (map[string]containerSecrets, error) {
	var refs []secretRef
	var registry []types.ContainerDefinition
	for _, cd := range td.ContainerDefinitions {
		name := aws.ToString(cd.Name)
		if !slices.Contains(containers, name) {
			continue
		}
		for _, sec := range cd.Secrets {
			refs = append(refs, secretRef{container: name, name: aws.ToString(sec.Name), valueFrom: aws.ToString(sec.ValueFrom)})
		}
		if lc := cd.LogConfiguration; lc != nil {
			for _, sec := range lc.SecretOptions {
				refs = append(refs, secretRef{container: name, name: aws.ToString(sec.Name), valueFrom: aws.ToString(sec.ValueFrom), logOption: true})
			}
		}
		if rc := cd.RepositoryCredentials; rc != nil && aws.ToString(rc.CredentialsParameter) != "" {
			registry = append(registry, cd)
		}
	}
	out := map[string]containerSecrets{}
	if len(refs) == 0 && len(registry) == 0 {
		return out, nil
	}
	if executionRole(t, td) == "" {
		// ECS refuses such a task definition at registration (see
		// validSecrets); a registry credential without a role to read it
		// with fails here.
		return nil, failStart("%sthe task has no execution role to read its secrets and registry credentials with", secretsFailed)
	}
	set := func(ref secretRef, value string) {
		cs := out[ref.container]
		if ref.logOption {
			if cs.logOptions == nil {
				cs.logOptions = map[string]string{}
			}
			cs.logOptions[ref.name] = value
		} else {
			cs.env = append(cs.env, ref.name+"="+value)
		}
		out[ref.container] = cs
	}
	var invalid []string
	for _, ref := range refs {
		if isSecretsManagerArn(ref.valueFrom) {
			continue
		}
		if b.Parameters == nil {
			return nil, failStart("%sunable to retrieve secrets from ssm: berth serves no Parameter Store", secretsFailed)
		}
		value, err := b.Parameters.Value(ctx, s, ref.valueFrom)
		switch {
		case awsproto.HasCode(err, &ssmtypes.ParameterNotFound{}), awsproto.HasCode(err, &ssmtypes.ParameterVersionNotFound{}),
			isValidationError(err):
			invalid = append(invalid, ref.valueFrom)
		case err != nil:
			return nil, err
		default:
			set(ref, value)
		}
	}
	if len(invalid) > 0 {
		// https://github.com/aws/copilot-cli/issues/2095 and field reports
		// of "invalid ssm parameters: /name".
		return nil, failStart("%sunable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: %s", secretsFailed, strings.Join(invalid, " "))
	}
	for _, ref := range refs {
		if !isSecretsManagerArn(ref.valueFrom) {
			continue
		}
		value, err := b.secretValue(ctx, s, ref.valueFrom)
		if err != nil {
			return nil, err
		}
		set(ref, value)
	}
	for _, cd := range registry {
		auth, err := b.registryAuth(ctx, s, aws.ToString(cd.RepositoryCredentials.CredentialsParameter), aws.ToString(cd.Image))
		if err != nil {
			return nil, err
		}
		cs := out[*cd.Name]
		cs.registryAuth = auth
		out[*cd.Name] = cs
	}
	return out, nil
}

func isValidationError(err error) bool {
	var e *awsproto.Error
	return errors.As(err, &e) && e.Code == "ValidationException"
}

// isSecretsManagerArn tells a Secrets Manager ARN from an SSM parameter's
// name or ARN.
func isSecretsManagerArn(valueFrom string) bool {
	parts := strings.SplitN(valueFrom, ":", 4)
	return len(parts) == 4 && parts[0] == "arn" && parts[2] == "secretsmanager"
}

// secretSelector is a Secrets Manager valueFrom taken apart:
// arn:aws:secretsmanager:region:account:secret:name[:json-key:version-stage:version-id],
// where every trailing part may be empty.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
type secretSelector struct {
	arn, jsonKey, versionStage, versionID string
}

// ok is false for any other number of parts, which the agent refuses.
func parseSecretSelector(valueFrom string) (sel secretSelector, ok bool) {
	parts := strings.Split(valueFrom, ":")
	switch len(parts) {
	case 7:
		return secretSelector{arn: valueFrom}, true
	case 10:
		return secretSelector{arn: strings.Join(parts[:7], ":"), jsonKey: parts[7], versionStage: parts[8], versionID: parts[9]}, true
	}
	return sel, false
}

// errSecretArn is the agent's answer to a valueFrom of neither form.
const errSecretArn = "an invalid ARN format for the AWS Secrets Manager secret was specified. Specify a valid ARN and try again."

// secretValue reads the value a Secrets Manager valueFrom names: the whole
// secret string, or one key of the JSON object it holds.
func (b *Backend) secretValue(ctx context.Context, s backend.Scope, valueFrom string) (string, error) {
	const failed = secretsFailed + "unable to retrieve secret from asm: service call has been retried 1 time(s): "
	sel, ok := parseSecretSelector(valueFrom)
	if !ok {
		return "", failStart("%s%s", failed, errSecretArn)
	}
	if b.Secrets == nil {
		return "", failStart("%sberth serves no Secrets Manager", failed)
	}
	value, err := b.Secrets.SecretString(ctx, s, sel.arn, sel.versionStage, sel.versionID)
	var ae *awsproto.Error
	switch {
	case errors.As(err, &ae):
		return "", failStart("%sfailed to fetch secret %s from secrets manager: %v", failed, sel.arn, ae)
	case err != nil:
		return "", err
	case sel.jsonKey == "":
		return value, nil
	}
	var object map[string]any
	if err := json.Unmarshal([]byte(value), &object); err != nil {
		return "", failStart("%sfailed to unmarshal secret %s as JSON: %v", failed, sel.arn, jsonSyntax(err))
	}
	v, ok := object[sel.jsonKey]
	if !ok {
		// Field reports: "retrieved secret from Secrets Manager did not
		// contain json key MY_SECRET".
		return "", failStart("%sretrieved secret from Secrets Manager did not contain json key %s", failed, sel.jsonKey)
	}
	// The agent formats the key's value with Go's %v: a string as it is,
	// 1000000 as 1e+06, an object as map[a:b].
	return fmt.Sprintf("%v", v), nil
}

// jsonSyntax is a JSON decoding error without anything of the text it
// decoded, which is a secret.
func jsonSyntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	}
	return errors.New("the secret is not a JSON object")
}

// registryAuth reads the username and password that a container's
// repositoryCredentials name and returns them as the Docker Engine's
// X-Registry-Auth value for the registry of image.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html
func (b *Backend) registryAuth(ctx context.Context, s backend.Scope, secret, image string) (string, error) {
	const failed = secretsFailed + "unable to get registry auth from asm: service call has been retried 1 time(s): "
	if b.Secrets == nil {
		return "", failStart("%sberth serves no Secrets Manager", failed)
	}
	sel, ok := parseSecretSelector(secret)
	if !ok {
		// A name or partial ARN: the secret as it is named.
		sel = secretSelector{arn: secret}
	}
	value, err := b.Secrets.SecretString(ctx, s, sel.arn, sel.versionStage, sel.versionID)
	var ae *awsproto.Error
	switch {
	case errors.As(err, &ae):
		return "", failStart("%sasm fetching secret from the service for %s: %v", failed, secret, ae)
	case err != nil:
		return "", err
	}
	var creds struct{ Username, Password string }
	if err := json.Unmarshal([]byte(value), &creds); err != nil || creds.Username == "" || creds.Password == "" {
		return "", failStart("%ssecret %s does not hold a JSON object with a username and a password", failed, secret)
	}
	auth, err := json.Marshal(map[string]string{"username": creds.Username, "password": creds.Password, "serveraddress": registryHost(image)})
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(auth), nil
}

// registryHost is the registry an image reference names: its first
// component when that is a host (it has a dot or a port, or is
// localhost), else Docker Hub.
func registryHost(image string) string {
	host, _, found := strings.Cut(image, "/")
	if found && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return host
	}
	return "https://index.docker.io/v1/"
}

// withSecretOptions returns td with the log options that secretOptions
// resolved to added to its containers' log configurations.
func withSecretOptions(td types.TaskDefinition, secrets map[string]containerSecrets) types.TaskDefinition {
	defs := slices.Clone(td.ContainerDefinitions)
	for i, cd := range defs {
		cs := secrets[aws.ToString(cd.Name)]
		if len(cs.logOptions) == 0 || cd.LogConfiguration == nil {
			continue
		}
		lc := *cd.LogConfiguration
		lc.Options = maps.Clone(lc.Options)
		if lc.Options == nil {
			lc.Options = map[string]string{}
		}
		maps.Copy(lc.Options, cs.logOptions)
		defs[i].LogConfiguration = &lc
	}
	td.ContainerDefinitions = defs
	return td
}

// withSecrets sets the variables of secrets in env, replacing what the
// container's environment set under the same names.
func withSecrets(env, secrets []string) []string {
	for _, kv := range secrets {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return env
}

// validSecrets refuses secrets without a name or a source, and secrets
// in a task definition without an execution role to read them with. The
// message is ECS's, as users report it:
// https://github.com/fabfuel/ecs-deploy/issues/87 and
// https://github.com/hashicorp/terraform-provider-aws/issues/6503
func validSecrets(containers []types.ContainerDefinition, executionRole string) error {
	for _, c := range containers {
		secrets := c.Secrets
		if lc := c.LogConfiguration; lc != nil {
			secrets = append(slices.Clip(secrets), lc.SecretOptions...)
		}
		for _, sec := range secrets {
			if aws.ToString(sec.Name) == "" || aws.ToString(sec.ValueFrom) == "" {
				return errClient("Invalid secret for container '%s': a secret needs a name and a valueFrom.", *c.Name)
			}
		}
		if len(secrets) > 0 && executionRole == "" {
			return errClient("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
		}
	}
	return nil
}
