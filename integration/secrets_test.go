package integration

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// executionRole creates the task execution role ECS reads secrets with.
func executionRole(t *testing.T, ctx context.Context, c clients) string {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out := try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ecsTaskExecutionRole-" + c.region), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
	return aws.ToString(out.Role.Arn)
}

func secretFrom(name, valueFrom string) types.Secret {
	return types.Secret{Name: aws.String(name), ValueFrom: aws.String(valueFrom)}
}

// TestTaskSecrets runs a task whose container prints the variables ECS
// set from both stores, and reads them through the awslogs driver: an SSM
// String by name, an SSM SecureString by ARN (decrypted), a whole Secrets
// Manager secret, one key of a JSON secret, and that key in the version
// staged AWSPREVIOUS. The values are in no API answer about the task.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
func TestTaskSecrets(t *testing.T) {
	ctx, c := setup(t)
	ps, sm := c.ssm, c.secretsmanager
	try(ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db-host"), Type: ssmtypes.ParameterTypeString, Value: aws.String("db.internal")})).must(t)
	try(ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/token"), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("tok-0f1e2d")})).must(t)
	tokenArn := "arn:aws:ssm:" + c.region + ":000000000000:parameter/app/token"
	apiKey := try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("api-key"), SecretString: aws.String("key-9a8b7c")})).must(t)
	db := try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String(`{"username":"admin","password":"first-pw"}`)})).must(t)
	try(sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: db.ARN, SecretString: aws.String(`{"username":"admin","password":"second-pw"}`)})).must(t)
	cert := try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("cert"), SecretBinary: []byte{0xde, 0xad}})).must(t)
	role := executionRole(t, ctx, c)

	printer := app("app", "env", "DB_HOST", "TOKEN", "API_KEY", "DB_PASSWORD", "DB_OLD_PASSWORD", "CERT", "PLAIN")
	printer.Environment = []types.KeyValuePair{{Name: aws.String("PLAIN"), Value: aws.String("not-secret")}, {Name: aws.String("DB_HOST"), Value: aws.String("overridden")}}
	printer.Secrets = []types.Secret{
		secretFrom("DB_HOST", "/app/db-host"),
		secretFrom("TOKEN", tokenArn),
		secretFrom("API_KEY", aws.ToString(apiKey.ARN)),
		secretFrom("DB_PASSWORD", aws.ToString(db.ARN)+":password::"),
		secretFrom("DB_OLD_PASSWORD", aws.ToString(db.ARN)+":password:AWSPREVIOUS:"),
		// A binary secret has no SecretString: the agent sets "".
		secretFrom("CERT", aws.ToString(cert.ARN)),
	}
	printer.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": "/ecs/secrets", "awslogs-region": c.region, "awslogs-stream-prefix": "app", "awslogs-create-group": "true",
	}}
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})

	// Without an execution role ECS refuses the task definition.
	_, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("printer"), ContainerDefinitions: []types.ContainerDefinition{printer}})
	if e := wantErr[*types.ClientException](t, err); !strings.Contains(aws.ToString(e.Message), "you must also specify a value for 'executionRoleArn'") {
		t.Fatalf("RegisterTaskDefinition without a role: %v", err)
	}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("printer"), ExecutionRoleArn: aws.String(role), ContainerDefinitions: []types.ContainerDefinition{printer}})).must(t)
	task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("printer")}).TaskArn)
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToInt32(task.Containers[0].ExitCode) != 0 {
		t.Fatalf("task = %s", taskJSON(task))
	}
	stream := "app/app/" + (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]
	want := []string{"DB_HOST=db.internal", "TOKEN=tok-0f1e2d", "API_KEY=key-9a8b7c", "DB_PASSWORD=second-pw", "DB_OLD_PASSWORD=first-pw", "CERT=", "PLAIN=not-secret"}
	var got []string
	eventually(t, "the variables in the log stream", func() bool {
		out, err := c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/secrets"), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err != nil {
			return false
		}
		got = got[:0]
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.Message))
		}
		return len(got) >= len(want)
	})
	if !slices.Equal(got, want) {
		t.Fatalf("printed %q, want %q", got, want)
	}
	described := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: []string{*task.TaskArn}, Include: []types.TaskField{types.TaskFieldTags}})).must(t)
	tdOut := try(c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("printer")})).must(t)
	for _, v := range []any{described, tdOut} {
		text, _ := json.Marshal(v)
		for _, secret := range []string{"db.internal", "tok-0f1e2d", "key-9a8b7c", "second-pw", "first-pw"} {
			if strings.Contains(string(text), secret) {
				t.Fatalf("an API answer shows the secret %q: %s", secret, text)
			}
		}
	}
}

// TestTaskSecretFailures: a parameter, secret or JSON key that does not
// exist stops the task before any container exists, with ECS's reason
// (the field reports cited in backend/ecs/secrets.go).
func TestTaskSecretFailures(t *testing.T) {
	ctx, c := setup(t)
	db := try(c.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String(`{"password":"pw"}`)})).must(t)
	role := executionRole(t, ctx, c)
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	const prefix = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
	for family, tc := range map[string]struct {
		secrets []types.Secret
		reason  string
	}{
		"no-parameter": {[]types.Secret{secretFrom("A", "/missing/param")},
			prefix + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: /missing/param"},
		"no-secret": {[]types.Secret{secretFrom("A", "arn:aws:secretsmanager:"+c.region+":000000000000:secret:gone-AbCdEf")},
			prefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:" + c.region + ":000000000000:secret:gone-AbCdEf from secrets manager: ResourceNotFoundException: "},
		// Another account's secrets and parameters are out of reach: berth
		// evaluates no resource policy and serves no RAM shares (see
		// TestAccountsKeptApartByArn).
		"other-account-secret": {[]types.Secret{secretFrom("A", "arn:aws:secretsmanager:"+c.region+":111111111111:secret:theirs-AbCdEf")},
			prefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:" + c.region + ":111111111111:secret:theirs-AbCdEf from secrets manager: AccessDeniedException: "},
		"other-account-parameter": {[]types.Secret{secretFrom("A", "arn:aws:ssm:"+c.region+":111111111111:parameter/theirs")},
			prefix + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: arn:aws:ssm:" + c.region + ":111111111111:parameter/theirs"},
		"no-key": {[]types.Secret{secretFrom("A", aws.ToString(db.ARN)+":MY_SECRET::")},
			prefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key MY_SECRET"},
		// The agent wants the ARN alone or with all three of key, stage
		// and version id (amazon-ecs-agent's asm package).
		"bad-arn": {[]types.Secret{secretFrom("A", aws.ToString(db.ARN)+":password")},
			prefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): an invalid ARN format for the AWS Secrets Manager secret was specified. Specify a valid ARN and try again."},
	} {
		container := app("app")
		container.Secrets = tc.secrets
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ExecutionRoleArn: aws.String(role), ContainerDefinitions: []types.ContainerDefinition{container}})).must(t)
		task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String(family)}).TaskArn)
		if !strings.HasPrefix(aws.ToString(task.StoppedReason), tc.reason) || task.StopCode != types.TaskStopCodeTaskFailedToStart || task.PullStartedAt != nil {
			t.Errorf("%s: task = %s\nwant reason %q", family, taskJSON(task), tc.reason)
		}
	}
	if left := containersOf(shared, c.region, "c"); len(left) > 0 {
		t.Fatalf("containers left behind: %v", left)
	}

	// A role named by its short name is the caller's; once deleted, ECS
	// cannot assume it and refuses the task, in the words users report.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shortlived"), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("short"), ExecutionRoleArn: aws.String("shortlived"),
		ContainerDefinitions: []types.ContainerDefinition{app("app")}})).must(t)
	try(c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("shortlived")})).must(t)
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("short")})
	if e := wantErr[*types.ClientException](t, err); !strings.HasPrefix(aws.ToString(e.Message), "ECS was unable to assume the role 'shortlived' that was provided for this task.") {
		t.Errorf("RunTask with a deleted role: %v", err)
	}
}

// TestRepositoryCredentials pulls a task's image from berth's registry,
// which wants a login, with the username and password of the Secrets
// Manager secret its repositoryCredentials name; other credentials fail
// the pull, and a secret that does not exist stops the task with ECS's
// reason.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html
func TestRepositoryCredentials(t *testing.T) {
	ctx, c := setup(t)
	awscli := cli{t: t, url: shared.url, region: c.region}
	var repo struct {
		Repository struct{ RepositoryUri string }
	}
	awscli.run(&repo, "ecr", "create-repository", "--repository-name", "private/web")
	uri := repo.Repository.RepositoryUri
	password := awscli.output("ecr", "get-login-password")
	config := t.TempDir()
	docker(t, config, password, "login", "--username", "AWS", "--password-stdin", shared.registry)
	docker(t, config, "FROM "+testImage+"\nENV APP_NAME=from-private-registry\n", "build", "-q", "-t", uri+":v1", "-")
	docker(t, config, "", "push", uri+":v1")
	docker(t, config, "", "rmi", uri+":v1")

	good := try(c.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("registry"),
		SecretString: aws.String(`{"username":"AWS","password":"` + password + `"}`)})).must(t)
	wrong := try(c.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("registry-wrong"),
		SecretString: aws.String(`{"username":"AWS","password":"not-the-password"}`)})).must(t)
	role := executionRole(t, ctx, c)
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	run := func(family, credentials string) types.Task {
		t.Helper()
		web := webContainer("web")
		web.Image = aws.String(uri + ":v1")
		web.RepositoryCredentials = &types.RepositoryCredentials{CredentialsParameter: aws.String(credentials)}
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ExecutionRoleArn: aws.String(role), ContainerDefinitions: []types.ContainerDefinition{web}})).must(t)
		return runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
	}

	task := running(t, ctx, c, *run("good", aws.ToString(good.ARN)).TaskArn)
	if body := get(t, hostURL(t, task)+"/"); !strings.Contains(body, "from-private-registry") {
		t.Fatalf("GET / = %s", body)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)

	task = stopped(t, ctx, c, *run("wrong", aws.ToString(wrong.ARN)).TaskArn)
	if !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError: ") {
		t.Fatalf("pull with wrong credentials: task = %s", taskJSON(task))
	}
	missing := "arn:aws:secretsmanager:" + c.region + ":000000000000:secret:nothing-AbCdEf"
	task = stopped(t, ctx, c, *run("missing", missing).TaskArn)
	want := "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to get registry auth from asm: service call has been retried 1 time(s): asm fetching secret from the service for " + missing + ": ResourceNotFoundException: "
	if !strings.HasPrefix(aws.ToString(task.StoppedReason), want) || task.PullStartedAt != nil {
		t.Fatalf("task = %s\nwant reason %q", taskJSON(task), want)
	}
}

// TestSecretNotInStopReason: a secret value the Docker Engine refuses (a
// NUL byte, which runc quotes with the variable in its error) stops the
// task, and the reason says why without the value; neither does berth's
// answer about the task show it anywhere.
func TestSecretNotInStopReason(t *testing.T) {
	ctx, c := setup(t)
	const value = "sekrit-7c1e\x00tail"
	db := try(c.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("nul"), SecretString: aws.String(value)})).must(t)
	role := executionRole(t, ctx, c)
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	container := app("app")
	container.Secrets = []types.Secret{secretFrom("S", aws.ToString(db.ARN))}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("nul"), ExecutionRoleArn: aws.String(role), ContainerDefinitions: []types.ContainerDefinition{container}})).must(t)
	task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("nul")}).TaskArn)
	if all := taskJSON(task); strings.Contains(all, "sekrit-7c1e") || aws.ToString(task.StoppedReason) == "" {
		t.Fatalf("the task shows the secret or no reason: %s", all)
	}
}
