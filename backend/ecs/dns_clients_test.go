package ecs

import (
	"context"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/sqlite"
)

// subnetsOf is an EC2 that has the subnets of a map (subnet id → VPC id)
// and refuses the others as EC2 does.
type subnetsOf map[string]string

func (s subnetsOf) DescribeSubnets(_ context.Context, in *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error) {
	out := &ec2.DescribeSubnetsOutput{}
	for _, id := range in.SubnetIds {
		vpc, ok := s[id]
		if !ok {
			return nil, awsproto.ClientError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		out.Subnets = append(out.Subnets, ec2types.Subnet{SubnetId: aws.String(id), VpcId: aws.String(vpc)})
	}
	return out, nil
}

func (subnetsOf) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
	return &ec2.DescribeSecurityGroupsOutput{}, nil
}

// TestDNSClients: the DNS server's table of clients holds each live awsvpc
// task's interface address with the VPC of its subnet, where its ENI is
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html:
// the task's ENI is created in the subnet the awsvpcConfiguration
// names); a stopped task, a task without an interface yet, a bridge task
// (no ENI) and a task whose subnet EC2 no longer has are not in it.
func TestDNSClients(t *testing.T) {
	b, ctx, _ := testBackend(t)
	b.Network = subnetsOf{"subnet-a": "vpc-a", "subnet-b": "vpc-b"}
	s := scopeOf(ctx).Scope
	eni := func(subnet, ip string) []types.Attachment {
		details := []types.KeyValuePair{{Name: aws.String("subnetId"), Value: aws.String(subnet)}}
		if ip != "" {
			details = append(details, types.KeyValuePair{Name: aws.String("privateIPv4Address"), Value: aws.String(ip)})
		}
		return []types.Attachment{{Type: aws.String("ElasticNetworkInterface"), Details: details}}
	}
	tasks := []types.Task{
		{TaskArn: aws.String("t1"), DesiredStatus: aws.String(statusRunning), LastStatus: aws.String(statusRunning), Attachments: eni("subnet-a", "172.30.0.2")},
		{TaskArn: aws.String("t2"), DesiredStatus: aws.String(statusRunning), LastStatus: aws.String(statusRunning), Attachments: eni("subnet-b", "172.30.0.3")},
		{TaskArn: aws.String("t3"), DesiredStatus: aws.String(statusStopped), LastStatus: aws.String(statusRunning), Attachments: eni("subnet-a", "172.30.0.4")},
		{TaskArn: aws.String("t4"), DesiredStatus: aws.String(statusStopped), LastStatus: aws.String(statusStopped), Attachments: eni("subnet-a", "172.30.0.5")},
		{TaskArn: aws.String("t5"), DesiredStatus: aws.String(statusRunning), LastStatus: aws.String("PROVISIONING"), Attachments: eni("subnet-a", "")},
		{TaskArn: aws.String("t6"), DesiredStatus: aws.String(statusRunning), LastStatus: aws.String(statusRunning), Attachments: []types.Attachment{}},
		{TaskArn: aws.String("t7"), DesiredStatus: aws.String(statusRunning), LastStatus: aws.String(statusRunning), Attachments: eni("subnet-gone", "172.30.0.8")},
	}
	if err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, task := range tasks {
			task.ClusterArn = aws.String("c")
			if err := putTask(tx, s, task); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := b.dnsClients(context.Background(), map[subnetKey]string{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]string{
		netip.MustParseAddr("172.30.0.2"): "vpc-a",
		netip.MustParseAddr("172.30.0.3"): "vpc-b",
		netip.MustParseAddr("172.30.0.4"): "vpc-a", // stopping: its containers still run
	}
	if len(got) != len(want) {
		t.Fatalf("clients = %v, want %v", got, want)
	}
	for addr, vpc := range want {
		if got[addr] != vpc {
			t.Errorf("clients = %v, want %v", got, want)
		}
	}

	// Every change to tasks wakes the publisher.
	select {
	case <-b.dnsWake: // what testBackend did
	default:
	}
	b.poke()
	select {
	case <-b.dnsWake:
	default:
		t.Error("a poke did not wake the DNS clients' publisher")
	}
}
