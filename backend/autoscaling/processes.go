package autoscaling

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/backend"
)

// processes are the scaling processes that may be suspended.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
var processes = []string{"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"}

func validProcesses(names []string) error {
	for _, n := range names {
		if !slices.Contains(processes, n) {
			return errValidation("Process names must be one of: %s; got %s", strings.Join(processes, ", "), n)
		}
	}
	return nil
}

// SuspendProcesses suspends scaling processes of a group (all when none
// is named). Suspended Launch and Terminate stop it from reaching its
// desired capacity.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SuspendProcesses.html
func (b *Backend) SuspendProcesses(ctx context.Context, in *asapi.SuspendProcessesInput) (*asapi.SuspendProcessesOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	if err := validProcesses(in.ScalingProcesses); err != nil {
		return nil, err
	}
	names := in.ScalingProcesses
	if len(names) == 0 {
		names = processes
	}
	reason := "User suspended at " + b.now().Format("2006-01-02T15:04:05Z")
	err := b.changeGroup(ctx, aws.ToString(in.AutoScalingGroupName), func(g *types.AutoScalingGroup) error {
		for _, n := range names {
			if !suspended(*g, n) {
				g.SuspendedProcesses = append(g.SuspendedProcesses, types.SuspendedProcess{ProcessName: aws.String(n), SuspensionReason: aws.String(reason)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SuspendProcessesOutput{}, nil
}

// ResumeProcesses resumes suspended processes (all when none is named);
// the group then scales to its desired capacity if it can.
func (b *Backend) ResumeProcesses(ctx context.Context, in *asapi.ResumeProcessesInput) (*asapi.ResumeProcessesOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	if err := validProcesses(in.ScalingProcesses); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AutoScalingGroupName)
	err := b.changeGroup(ctx, name, func(g *types.AutoScalingGroup) error {
		g.SuspendedProcesses = slices.DeleteFunc(g.SuspendedProcesses, func(p types.SuspendedProcess) bool {
			return len(in.ScalingProcesses) == 0 || slices.Contains(in.ScalingProcesses, aws.ToString(p.ProcessName))
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.scale(ctx, backend.ScopeFrom(ctx), name, "a user request resumed scaling processes"); err != nil {
		return nil, err
	}
	return &asapi.ResumeProcessesOutput{}, nil
}

// DescribeScalingProcessTypes lists the scaling processes.
func (b *Backend) DescribeScalingProcessTypes(ctx context.Context, in *asapi.DescribeScalingProcessTypesInput) (*asapi.DescribeScalingProcessTypesOutput, error) {
	out := &asapi.DescribeScalingProcessTypesOutput{Processes: []types.ProcessType{}}
	for _, p := range processes {
		out.Processes = append(out.Processes, types.ProcessType{ProcessName: aws.String(p)})
	}
	return out, nil
}
