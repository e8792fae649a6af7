package autoscaling

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/backend"
	"berth/sqlite"
)

// InstancesLeft is Auto Scaling's health check learning that EC2
// terminated or stopped instances behind its back (a TerminateInstances or
// StopInstances call made directly to EC2): each group drops those of its
// instances, records their terminations as activities, terminates the
// stopped ones, and launches replacements up to its desired capacity. "If
// an instance is in any state other than running, Amazon EC2 Auto Scaling
// considers it unhealthy and replaces it."
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html
// Instances Auto Scaling terminates itself have left their group already.
func (b *Backend) InstancesLeft(ctx context.Context, ids []string) {
	s := backend.ScopeFrom(ctx)
	groups, err := b.viewGroups(ctx, s)
	if err != nil {
		return
	}
	for _, g := range groups {
		if !slices.ContainsFunc(g.Instances, func(i types.Instance) bool { return slices.Contains(ids, aws.ToString(i.InstanceId)) }) {
			continue
		}
		name := *g.AutoScalingGroupName
		dropped := b.dropUnhealthy(ctx, s, name, ids)
		if len(dropped) == 0 {
			continue
		}
		// Stopped ones are terminated; terminating the terminated again
		// changes nothing.
		if _, err := b.ec2.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: dropped}); err != nil {
			continue
		}
		b.scale(ctx, s, name, "an instance was launched to replace an unhealthy instance")
	}
}

// dropUnhealthy takes the instances ids names out of group name and
// returns those it took.
func (b *Backend) dropUnhealthy(ctx context.Context, s backend.Scope, name string, ids []string) []string {
	defer b.lockGroup(busyKey(s, name))()
	var dropped []string
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		var keep []types.Instance
		for _, inst := range g.Instances {
			if !slices.Contains(ids, aws.ToString(inst.InstanceId)) {
				keep = append(keep, inst)
				continue
			}
			dropped = append(dropped, *inst.InstanceId)
			now := b.now()
			a := b.activity(g, now, "Terminating EC2 instance: "+*inst.InstanceId,
				fmt.Sprintf("At %s an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.",
					now.Format(time.RFC3339)), "", aws.ToString(inst.AvailabilityZone))
			if err := tx.Put(s.Row(kindActivity, *a.ActivityId, name, ""), a); err != nil {
				return err
			}
		}
		if len(dropped) == 0 {
			return nil
		}
		g.Instances = backend.OrEmpty(keep)
		return putGroup(tx, s, g)
	})
	if err != nil {
		return nil
	}
	return dropped
}

// Resume brings every group, in every account and region, to its desired
// capacity: the work a berth stopped in the middle of a scale out (kill -9)
// left undone, as Auto Scaling keeps launching until a group holds its
// desired capacity. Run it once at start.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/what-is-amazon-ec2-auto-scaling.html
func (b *Backend) Resume(ctx context.Context) {
	var groups []sqlite.Key
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		return tx.Scan(kindGroup, "", func(k sqlite.Key, _ []byte) error {
			groups = append(groups, k)
			return nil
		})
	})
	if err != nil {
		return
	}
	for _, k := range groups {
		s := backend.Scope{Account: k.Account, Region: k.Region}
		b.scale(backend.WithScope(ctx, s), s, k.ID, "berth resumed bringing the group to its desired capacity after a restart")
	}
}
