// Package logs is the part of Amazon CloudWatch Logs that ECS stacks use:
// log groups with their retention and tags, log streams, and their events,
// written with PutLogEvents and read with GetLogEvents and
// FilterLogEvents.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/Welcome.html
//
// Every exported method is one CloudWatch Logs operation with the SDK
// client's signature minus its options.
package logs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	logsapi "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the CloudWatch Logs API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
}

// New returns a CloudWatch Logs backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}

// Stored resource kinds. Events are not resources: the store keeps them
// in its log table (sqlite.LogStream).
const (
	kindGroup  = "logs/group"  // by name
	kindStream = "logs/stream" // by group and stream name, under the group
)

// group is a log group with its tags.
type group struct {
	Group types.LogGroup
	Tags  map[string]string
}

func streamID(groupName, streamName string) string { return groupName + ":" + streamName }

var (
	groupName  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	streamName = regexp.MustCompile(`^[^:*]{1,512}$`)
)

// retentions are the values retentionInDays may take.
var retentions = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// retentionList is retentions as AWS lists a value set: "1, 3, 5, ...".
func retentionList() string {
	days := make([]string, len(retentions))
	for i, d := range retentions {
		days[i] = strconv.Itoa(int(d))
	}
	return strings.Join(days, ", ")
}

func errNotFound(what string) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "The specified %s does not exist.", what)
}

func errInvalid(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidParameterException{}, format, args...)
}

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

func (b *Backend) millis() int64 { return b.env.Clock().UnixMilli() }

func loadGroup(tx *sqlite.Tx, s backend.Scope, name string) (group, error) {
	var g group
	err := tx.Get(s.Key(kindGroup, name), &g)
	if isNotFound(err) {
		return g, errNotFound("log group")
	}
	return g, err
}

// CreateLogGroup creates a log group.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
func (b *Backend) CreateLogGroup(ctx context.Context, in *logsapi.CreateLogGroupInput) (*logsapi.CreateLogGroupOutput, error) {
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.LogGroupName)
	if !groupName.MatchString(name) {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", name)
	}
	class := in.LogGroupClass
	if class == "" {
		class = types.LogGroupClassStandard
	}
	arn := groupArn(s, name)
	g := group{Tags: in.Tags, Group: types.LogGroup{
		LogGroupName: aws.String(name), CreationTime: aws.Int64(b.millis()), Arn: aws.String(arn + ":*"), LogGroupArn: aws.String(arn),
		MetricFilterCount: aws.Int32(0), StoredBytes: aws.Int64(0), LogGroupClass: class, KmsKeyId: in.KmsKeyId,
		DeletionProtectionEnabled: in.DeletionProtectionEnabled,
	}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindGroup, name)); err != nil || ok {
			if err != nil {
				return err
			}
			return awsproto.Modeled(&types.ResourceAlreadyExistsException{}, "The specified log group already exists")
		}
		return tx.Put(s.Row(kindGroup, name, "", name), g)
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.CreateLogGroupOutput{}, nil
}

// DescribeLogGroups lists log groups by name, optionally by prefix or by a
// substring pattern.
func (b *Backend) DescribeLogGroups(ctx context.Context, in *logsapi.DescribeLogGroupsInput) (*logsapi.DescribeLogGroupsOutput, error) {
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	var all []group
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[group](tx, backend.ScopeFrom(ctx).Query(kindGroup, ""))
		return err
	})
	if err != nil {
		return nil, err
	}
	var groups []types.LogGroup
	for _, g := range all {
		name := *g.Group.LogGroupName
		if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) && strings.Contains(strings.ToLower(name), strings.ToLower(aws.ToString(in.LogGroupNamePattern))) &&
			(len(in.LogGroupIdentifiers) == 0 || slices.Contains(in.LogGroupIdentifiers, name) || slices.Contains(in.LogGroupIdentifiers, *g.Group.LogGroupArn)) {
			groups = append(groups, g.Group)
		}
	}
	slices.SortFunc(groups, func(a, b types.LogGroup) int { return strings.Compare(*a.LogGroupName, *b.LogGroupName) })
	groups, next, err := page(groups, func(g types.LogGroup) string { return *g.LogGroupName }, in.NextToken, in.Limit, 50)
	if err != nil {
		return nil, err
	}
	return &logsapi.DescribeLogGroupsOutput{LogGroups: backend.OrEmpty(groups), NextToken: next}, nil
}

// DeleteLogGroup deletes a log group with its streams and events.
func (b *Backend) DeleteLogGroup(ctx context.Context, in *logsapi.DeleteLogGroupInput) (*logsapi.DeleteLogGroupOutput, error) {
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.LogGroupName)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadGroup(tx, s, name); err != nil {
			return err
		}
		streams, err := sqlite.ListAll[types.LogStream](tx, s.Query(kindStream, name))
		if err != nil {
			return err
		}
		for _, st := range streams {
			if err := deleteStream(tx, s, name, *st.LogStreamName); err != nil {
				return err
			}
		}
		return tx.Delete(s.Key(kindGroup, name))
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteLogGroupOutput{}, nil
}

// changeGroup applies change to a stored log group.
func (b *Backend) changeGroup(ctx context.Context, name string, change func(*group) error) error {
	s := backend.ScopeFrom(ctx)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		if err := change(&g); err != nil {
			return err
		}
		return tx.Put(s.Row(kindGroup, name, "", name), g)
	})
}

// PutRetentionPolicy sets how many days a group keeps its events.
func (b *Backend) PutRetentionPolicy(ctx context.Context, in *logsapi.PutRetentionPolicyInput) (*logsapi.PutRetentionPolicyOutput, error) {
	days := aws.ToInt32(in.RetentionInDays)
	if !slices.Contains(retentions, days) {
		return nil, errInvalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [%s]", days, retentionList())
	}
	err := b.changeGroup(ctx, aws.ToString(in.LogGroupName), func(g *group) error {
		g.Group.RetentionInDays = aws.Int32(days)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.PutRetentionPolicyOutput{}, nil
}

// DeleteRetentionPolicy makes a group keep its events forever.
func (b *Backend) DeleteRetentionPolicy(ctx context.Context, in *logsapi.DeleteRetentionPolicyInput) (*logsapi.DeleteRetentionPolicyOutput, error) {
	err := b.changeGroup(ctx, aws.ToString(in.LogGroupName), func(g *group) error {
		g.Group.RetentionInDays = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteRetentionPolicyOutput{}, nil
}

// groupNamed is the log group a request names, by name or by identifier
// (its name or ARN).
func groupNamed(name, identifier *string) string {
	if aws.ToString(name) != "" {
		return *name
	}
	if n, err := groupOfArn(aws.ToString(identifier)); err == nil {
		return n
	}
	return aws.ToString(identifier)
}

// groupArn is the ARN of a log group of scope s.
func groupArn(s backend.Scope, name string) string {
	return "arn:aws:logs:" + s.Region + ":" + s.Account + ":log-group:" + name
}

// groupOfArn is the log group name in a log group ARN (with or without
// the trailing ":*").
func groupOfArn(arn string) (string, error) {
	parts := strings.SplitN(strings.TrimSuffix(arn, ":*"), ":", 7)
	if len(parts) != 7 || parts[2] != "logs" || parts[5] != "log-group" {
		return "", errInvalid("Invalid resourceArn: %s", arn)
	}
	return parts[6], nil
}

// TagResource adds or replaces tags of a log group.
func (b *Backend) TagResource(ctx context.Context, in *logsapi.TagResourceInput) (*logsapi.TagResourceOutput, error) {
	name, err := groupOfArn(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	err = b.changeGroup(ctx, name, func(g *group) error {
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		maps.Copy(g.Tags, in.Tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.TagResourceOutput{}, nil
}

// UntagResource removes tags of a log group.
func (b *Backend) UntagResource(ctx context.Context, in *logsapi.UntagResourceInput) (*logsapi.UntagResourceOutput, error) {
	name, err := groupOfArn(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	err = b.changeGroup(ctx, name, func(g *group) error {
		for _, k := range in.TagKeys {
			delete(g.Tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a log group's tags.
func (b *Backend) ListTagsForResource(ctx context.Context, in *logsapi.ListTagsForResourceInput) (*logsapi.ListTagsForResourceOutput, error) {
	name, err := groupOfArn(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	var g group
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		g, err = loadGroup(tx, backend.ScopeFrom(ctx), name)
		return err
	})
	if err != nil {
		return nil, err
	}
	tags := g.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return &logsapi.ListTagsForResourceOutput{Tags: tags}, nil
}

// The group-name forms of tagging, which the API keeps for older clients.

// TagLogGroup adds or replaces tags of a log group named by name.
func (b *Backend) TagLogGroup(ctx context.Context, in *logsapi.TagLogGroupInput) (*logsapi.TagLogGroupOutput, error) {
	_, err := b.TagResource(ctx, &logsapi.TagResourceInput{ResourceArn: aws.String(groupArn(backend.ScopeFrom(ctx), aws.ToString(in.LogGroupName))), Tags: in.Tags})
	return &logsapi.TagLogGroupOutput{}, err
}

// UntagLogGroup removes tags of a log group named by name.
func (b *Backend) UntagLogGroup(ctx context.Context, in *logsapi.UntagLogGroupInput) (*logsapi.UntagLogGroupOutput, error) {
	_, err := b.UntagResource(ctx, &logsapi.UntagResourceInput{ResourceArn: aws.String(groupArn(backend.ScopeFrom(ctx), aws.ToString(in.LogGroupName))), TagKeys: in.Tags})
	return &logsapi.UntagLogGroupOutput{}, err
}

// ListTagsLogGroup lists the tags of a log group named by name.
func (b *Backend) ListTagsLogGroup(ctx context.Context, in *logsapi.ListTagsLogGroupInput) (*logsapi.ListTagsLogGroupOutput, error) {
	out, err := b.ListTagsForResource(ctx, &logsapi.ListTagsForResourceInput{ResourceArn: aws.String(groupArn(backend.ScopeFrom(ctx), aws.ToString(in.LogGroupName)))})
	if err != nil {
		return nil, err
	}
	return &logsapi.ListTagsLogGroupOutput{Tags: out.Tags}, nil
}

// page pages items ordered by a unique key with an opaque token, at most
// max (or limit) to a page.
func page[T any](all []T, key func(T) string, token *string, limit *int32, max int32) ([]T, *string, error) {
	if limit != nil && (*limit < 1 || *limit > max) {
		return nil, nil, errInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, max)
	}
	items, next, err := backend.PageOf(all, key, token, limit, int(max))
	if err != nil {
		return nil, nil, errInvalid("The specified nextToken is invalid.")
	}
	return items, next, nil
}

// sequenceToken is the opaque token PutLogEvents returns (and no longer
// requires).
func sequenceToken(n int) *string { return aws.String(fmt.Sprintf("%056d", n)) }
