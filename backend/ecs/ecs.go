// Package ecs is the ECS control plane: clusters, task definitions,
// services, tasks, container instances and the smaller resource families,
// stored as the SDK's own types and validated as the ECS API Reference says.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/Welcome.html
//
// Every exported method is one ECS operation with the SDK client's
// signature minus its options; the server derives its operation table from
// them, so a method's name is its wire name.
package ecs

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the ECS API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	fleet *fleet // where EC2 tasks are placed; no hosts for nowhere (no runtime)

	wakeMu sync.Mutex
	wakes  []chan struct{} // one per agent: tasks or services changed

	// LoadBalancers, when set, is the ELBv2 API that services with load
	// balancers use: their target groups are validated against it and
	// their tasks registered in them. Set it before serving.
	LoadBalancers LoadBalancing

	// Logs, when set, is where containers with the awslogs log driver
	// send their output. Set it before serving.
	Logs LogSink

	// Roles, when set, is the IAM API that task and execution role ARNs
	// are validated against. Set it before serving.
	Roles Roles

	// Network, when set, is the EC2 API that awsvpc subnets and security
	// groups are validated against. Set it before serving.
	Network Network

	// AutoScaling, when set, is EC2 Auto Scaling: the groups that capacity
	// providers name are checked against it. Set it before serving.
	AutoScaling AutoScalingGroups

	// Images, when set, is ECR: images that name its repositories are
	// pulled from berth's registry. Set it before serving.
	Images Registry

	// Discovery, when set, is AWS Cloud Map: the tasks of services with
	// service registries register there while they run. Set it before
	// serving.
	Discovery ServiceDiscovery

	// Parameters and Secrets, when set, are SSM Parameter Store and
	// Secrets Manager: where the agent reads containers' secrets and
	// registry credentials at task start. Set them before serving.
	Parameters ParameterStore
	Secrets    SecretStore

	// Alarms, when set, is CloudWatch: the alarms that watch services'
	// deployments (deploymentConfiguration.alarms); AlarmMinute is how
	// long its minute lasts (--cloudwatch-minute; zero for a minute),
	// which the deployments' bake time is counted in. Set them before
	// serving.
	Alarms      Alarms
	AlarmMinute time.Duration

	// ServiceConnect, when set, is AWS Cloud Map as Service Connect uses
	// it: services' namespaces are resolved there, and their discovery
	// names created. Set it before serving.
	ServiceConnect ServiceConnectDiscovery
	// scWake wakes the Service Connect publisher (service_connect.go).
	scWake chan struct{}
	// dnsWake wakes the DNS clients' publisher (dns_clients.go).
	dnsWake chan struct{}
	// scMu orders what ECS does in Cloud Map for Service Connect: the
	// discovery names CreateService and UpdateService check and create
	// (until the service that uses them is stored) and those retired
	// when unused, so that none is taken twice or retired while a
	// service is about to use it.
	scMu sync.Mutex
}

// Registry resolves images that name ECR repositories to what the Docker
// Engine pulls from berth's registry, with the credentials to pull with;
// ok is false for other images.
type Registry interface {
	Resolve(ctx context.Context, image string) (ref, auth string, ok bool, err error)
}

// Network is the part of the EC2 API that awsvpc configurations name; the
// EC2 backend satisfies it.
type Network interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error)
}

// validNetwork checks that EC2 has the subnets and security groups of an
// awsvpc configuration, refusing the others with EC2's error as ECS does.
func (b *Backend) validNetwork(ctx context.Context, nc *types.NetworkConfiguration) error {
	if b.Network == nil || nc == nil || nc.AwsvpcConfiguration == nil {
		return nil
	}
	refused := func(what string, ids []string, err error) error {
		var e *awsproto.Error
		if !errors.As(err, &e) {
			return err
		}
		return errInvalidParameter("Error retrieving %s information for [%s]: %s (ErrorCode: %s)", what, strings.Join(ids, ", "), e.Message, e.Code)
	}
	vpc := nc.AwsvpcConfiguration
	if len(vpc.Subnets) > 0 {
		if _, err := b.Network.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: vpc.Subnets}); err != nil {
			return refused("subnet", vpc.Subnets, err)
		}
	}
	if len(vpc.SecurityGroups) > 0 {
		if _, err := b.Network.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: vpc.SecurityGroups}); err != nil {
			return refused("security group", vpc.SecurityGroups, err)
		}
	}
	return nil
}

// Roles finds IAM roles: the IAM backend.
type Roles interface {
	GetRole(context.Context, *iamapi.GetRoleInput) (*iamapi.GetRoleOutput, error)
}

// validRoles checks that each role ARN given names a role that exists in
// IAM; ECS refuses the others.
func (b *Backend) validRoles(ctx context.Context, arns ...*string) error {
	for _, arn := range arns {
		if aws.ToString(arn) == "" || b.Roles == nil {
			continue
		}
		// A role is named by its ARN or, in the caller's account, by its
		// short name.
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html#ECS-RegisterTaskDefinition-request-taskRoleArn
		account, name := scopeOf(ctx).Account, *arn
		if strings.HasPrefix(*arn, "arn:") {
			parts := strings.SplitN(*arn, ":", 6)
			if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
				return errClient("Role is not valid")
			}
			account, name = parts[4], parts[5][strings.LastIndex(parts[5], "/")+1:]
		}
		ctx := backend.WithScope(ctx, backend.Scope{Account: account, Region: scopeOf(ctx).Region})
		_, err := b.Roles.GetRole(ctx, &iamapi.GetRoleInput{RoleName: aws.String(name)})
		var e *awsproto.Error
		if errors.As(err, &e) && e.Code == "NoSuchEntity" {
			return errClient("Role is not valid")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// assumableRoles checks, when a task starts, that the roles it names
// still exist: ECS refuses the task with ClientException otherwise, in
// the words users report ("ECS was unable to assume the role '...' that
// was provided for this task. ...").
func (b *Backend) assumableRoles(ctx context.Context, arns ...*string) error {
	for _, arn := range arns {
		if err := b.validRoles(ctx, arn); awsproto.HasCode(err, &types.ClientException{}) {
			return errClient("ECS was unable to assume the role '%s' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", *arn)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// New returns an ECS backend over store that places EC2 tasks on hosts,
// the local engine first (none places them nowhere: tasks are only
// recorded).
func New(store *sqlite.Store, env backend.Env, hosts ...Host) *Backend {
	return &Backend{store: store, env: env, fleet: newFleet(hosts), scWake: make(chan struct{}, 1), dnsWake: make(chan struct{}, 1)}
}

// Wake tells the service scheduler that something it watches outside ECS
// changed: the health of targets.
func (b *Backend) Wake() { b.poke() }

// poke tells the agents, if any run, that tasks or services changed.
func (b *Backend) poke() {
	b.scPoke() // a service's Service Connect aliases may have changed
	backend.Signal(b.dnsWake)
	b.wakeMu.Lock()
	defer b.wakeMu.Unlock()
	for _, w := range b.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// woken returns a channel that receives after every poke (at most one
// pending), for one agent.
func (b *Backend) woken() <-chan struct{} {
	w := make(chan struct{}, 1)
	b.wakeMu.Lock()
	defer b.wakeMu.Unlock()
	b.wakes = append(b.wakes, w)
	return w
}

// Stored resource kinds.
const (
	kindCluster           = "ecs/cluster"
	kindTaskDefinition    = "ecs/task-definition"
	kindFamily            = "ecs/family"
	kindService           = "ecs/service"
	kindTask              = "ecs/task"
	kindContainerInstance = "ecs/container-instance"
	kindCapacityProvider  = "ecs/capacity-provider"
	kindAccountSetting    = "ecs/account-setting"
	kindAttribute         = "ecs/attribute"
	kindTaskSet           = "ecs/task-set"
	kindServiceRevision   = "ecs/service-revision"
	kindServiceDeployment = "ecs/service-deployment"
	kindTags              = "ecs/tags"
)

// scope is the request's account and region with helpers for keys and ARNs.
type scope struct{ backend.Scope }

func scopeOf(ctx context.Context) scope { return scope{backend.ScopeFrom(ctx)} }

// arn builds an ECS ARN in the long format, e.g. resource "cluster/web".
func (s scope) arn(resource string) string {
	return "arn:aws:ecs:" + s.Region + ":" + s.Account + ":" + resource
}

// name is resourceName for a reference resolved in s: an ARN of another
// region or account names nothing here ("").
func (s scope) name(ref, resourceType string) string {
	if strings.HasPrefix(ref, "arn:") && !strings.HasPrefix(ref, s.arn("")) {
		return ""
	}
	return resourceName(ref, resourceType)
}

// principal is who berth says created a resource: the account root.
func (s scope) principal() string { return "arn:aws:iam::" + s.Account + ":root" }

// resourceName returns the name part of ref, which is either a bare name or
// an ARN of the given resource type ("cluster", "service", ...). ARNs in the
// long format carry the cluster too: for those the last path element is the
// name.
func resourceName(ref, resourceType string) string {
	if !strings.HasPrefix(ref, "arn:") {
		return ref
	}
	parts := strings.SplitN(ref, ":", 6)
	if len(parts) < 6 {
		return ref
	}
	res := parts[5]
	if !strings.HasPrefix(res, resourceType+"/") {
		return ""
	}
	return res[strings.LastIndex(res, "/")+1:]
}

func (b *Backend) now() *time.Time {
	t := b.env.Clock().UTC().Truncate(time.Millisecond)
	return &t
}

// notFound turns the store's ErrNotFound into err and passes others on.
func notFound(err error, nf func() error) error {
	if errors.Is(err, sqlite.ErrNotFound) {
		return nf()
	}
	return err
}

// pageLimit validates maxResults against ECS's bound (1..max, default def).
func pageLimit(maxResults *int32, def, max int) (int, error) {
	if maxResults == nil {
		return def, nil
	}
	if *maxResults < 1 || int(*maxResults) > max {
		return 0, errInvalidParameter("maxResults must be between 1 and %d.", max)
	}
	return int(*maxResults), nil
}

func pageToken(err error) error {
	if errors.Is(err, sqlite.ErrBadToken) {
		return errInvalidParameter("Invalid nextToken")
	}
	return err
}

// nextToken wraps a store token as the optional string ECS returns.
func nextToken(t string) *string {
	if t == "" {
		return nil
	}
	return aws.String(t)
}

// pageStrings pages an in-memory, ordered list of unique keys. The token
// is the last key returned, opaque to clients.
func pageStrings(all []string, token *string, limit int) ([]string, *string, error) {
	start := 0
	if token != nil && *token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil {
			return nil, nil, errInvalidParameter("Invalid nextToken")
		}
		start = len(all)
		for i, s := range all {
			if s == string(raw) {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(all))
	page := all[start:end]
	if end < len(all) {
		return page, aws.String(base64.RawURLEncoding.EncodeToString([]byte(all[end-1]))), nil
	}
	return page, nil, nil
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

func validName(what, name string) error {
	if !namePattern.MatchString(name) {
		return errInvalidParameter("%s can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores, and hyphens.", what)
	}
	return nil
}

func ptrValue[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// tags reads the tags stored for arn.
func tags(tx *sqlite.Tx, s scope, arn string) ([]types.Tag, error) {
	var t []types.Tag
	err := tx.Get(s.Key(kindTags, arn), &t)
	if errors.Is(err, sqlite.ErrNotFound) {
		return []types.Tag{}, nil
	}
	return t, err
}

// setTags validates and stores tags for arn, merging with what is there.
func setTags(tx *sqlite.Tx, s scope, arn string, add []types.Tag) error {
	if err := validTags(add); err != nil {
		return err
	}
	have, err := tags(tx, s, arn)
	if err != nil {
		return err
	}
	for _, t := range add {
		replaced := false
		for i := range have {
			if *have[i].Key == *t.Key {
				have[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			have = append(have, t)
		}
	}
	// Tags of the reserved aws: prefix (ECS's managed tags) do not count
	// against the 50.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#tag-restrictions
	counted := 0
	for _, t := range have {
		if !reserved(aws.ToString(t.Key)) {
			counted++
		}
	}
	if counted > 50 {
		return errInvalidParameter("Tag count exceeds the maximum of 50.")
	}
	return tx.Put(s.Row(kindTags, arn, "", ""), have)
}

// reserved reports whether a tag key has the prefix AWS keeps for itself,
// in any case.
func reserved(key string) bool { return strings.HasPrefix(strings.ToLower(key), "aws:") }

func validTags(ts []types.Tag) error {
	for _, t := range ts {
		k, v := ptrValue(t.Key), ptrValue(t.Value)
		if k == "" || len(k) > 128 {
			return errInvalidParameter("Tag keys must be between 1 and 128 characters.")
		}
		if len(v) > 256 {
			return errInvalidParameter("Tag values must be up to 256 characters.")
		}
		if reserved(k) {
			return errInvalidParameter("Tag keys that begin with 'aws:' are reserved.")
		}
	}
	return nil
}

func strconvItoa(n int32) string { return strconv.Itoa(int(n)) }

func int32String(n *int32) *string {
	if n == nil {
		return nil
	}
	return aws.String(strconvItoa(*n))
}
