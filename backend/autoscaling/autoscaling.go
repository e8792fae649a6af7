// Package autoscaling is Amazon EC2 Auto Scaling as ECS stacks use it:
// Auto Scaling groups with their launch template, subnets, capacity,
// tags, lifecycle hooks, warm pool, suspended processes and scale-in
// protection, and the EC2 instances a group launches to its desired
// capacity. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/Welcome.html
//
// A group's instances are EC2 instance records: the group launches and
// terminates them through the EC2 API (RunInstances, TerminateInstances),
// tagged aws:autoscaling:groupName as AWS tags them, and they are InService
// and Healthy as soon as they are launched. They run nothing and do not
// register as ECS container instances: the capacity of every ECS cluster
// is berth's Docker Engine (its one container instance, and the hosts of
// a fleet), whatever capacity provider a task names. An ECS capacity
// provider's autoScalingGroupProvider must still name a real group, so
// that the ARNs and settings an infrastructure stack wires together are
// checked as AWS checks them. Lifecycle hooks and warm pools are records:
// instances pass every hook at once, and a warm pool holds no instances.
//
// Every exported method is one Auto Scaling action with the SDK client's
// signature minus its options.
package autoscaling

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the Auto Scaling API from the store.
type Backend struct {
	store     *sqlite.Store
	env       backend.Env
	ec2       EC2
	templates LaunchTemplates

	// scaling serialises the work that brings one group to its desired
	// capacity, so that two calls never launch the same missing instance;
	// groups scale side by side, so that a group launching hundreds of
	// instances holds up no other group. By scope and name, while in use.
	scaling map[string]*groupLock
	mu      sync.Mutex      // guards scaling and inScale
	inScale map[string]bool // the groups being scaled, by scope and name
}

// groupLock is the lock of one group's scaling, with the count of the
// calls that hold or wait for it.
type groupLock struct {
	sync.Mutex
	users int
}

// lockGroup takes the scaling lock of the group key names and returns
// its release.
func (b *Backend) lockGroup(key string) (unlock func()) {
	b.mu.Lock()
	l := b.scaling[key]
	if l == nil {
		l = &groupLock{}
		b.scaling[key] = l
	}
	l.users++
	b.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		b.mu.Lock()
		defer b.mu.Unlock()
		if l.users--; l.users == 0 {
			delete(b.scaling, key)
		}
	}
}

// EC2 is the part of the EC2 API a group uses: its subnets are checked
// with DescribeSubnets, its instances launched and terminated. The EC2
// backend satisfies it.
type EC2 interface {
	DescribeSubnets(context.Context, *ec2api.DescribeSubnetsInput) (*ec2api.DescribeSubnetsOutput, error)
	RunInstances(context.Context, *ec2api.RunInstancesInput) (*ec2api.RunInstancesOutput, error)
	TerminateInstances(context.Context, *ec2api.TerminateInstancesInput) (*ec2api.TerminateInstancesOutput, error)
}

// LaunchTemplates resolves a group's launch template (by id or name, at a
// version: a number, $Default or $Latest) to the version's launch data,
// as EC2's DescribeLaunchTemplateVersions does; the EC2 backend satisfies
// it.
type LaunchTemplates interface {
	DescribeLaunchTemplateVersions(context.Context, *ec2api.DescribeLaunchTemplateVersionsInput) (*ec2api.DescribeLaunchTemplateVersionsOutput, error)
}

// New returns an Auto Scaling backend over store that launches instances
// through ec2 and resolves launch templates with templates.
func New(store *sqlite.Store, env backend.Env, ec2 EC2, templates LaunchTemplates) *Backend {
	return &Backend{store: store, env: env, ec2: ec2, templates: templates, inScale: map[string]bool{}, scaling: map[string]*groupLock{}}
}

// Stored resource kinds, in the request's scope.
const (
	kindGroup    = "autoscaling/group"          // group: by name
	kindHook     = "autoscaling/lifecycle-hook" // types.LifecycleHook: by group/hook name, under the group
	kindActivity = "autoscaling/activity"       // types.Activity: by id, under the group
)

// groupARN is a group's ARN: AWS puts a unique id before its name.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/control-access-using-iam.html
func groupARN(s backend.Scope, id, name string) string {
	return "arn:aws:autoscaling:" + s.Region + ":" + s.Account + ":autoScalingGroup:" + id + ":autoScalingGroupName/" + name
}

// serviceLinkedRole is the role Auto Scaling acts with by default.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-service-linked-role.html
func serviceLinkedRole(s backend.Scope) string {
	return "arn:aws:iam::" + s.Account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
}

func (b *Backend) now() time.Time { return b.env.Clock().UTC().Truncate(time.Millisecond) }

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

// isAPIError reports whether err is an API error of the service called,
// setting *ae to it.
func isAPIError(err error, ae **awsproto.Error) bool { return errors.As(err, ae) }

// nameOf is a group name from a name or a group ARN.
func nameOf(ref string) string {
	if _, name, ok := strings.Cut(ref, ":autoScalingGroupName/"); ok && strings.HasPrefix(ref, "arn:") {
		return name
	}
	return ref
}
