package integration

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestTerraformVpcNat applies a VPC written the way people write one (two
// public and two private subnets in two zones, an internet gateway, a NAT
// gateway with its Elastic IP, route tables, the default network ACL
// managed, security groups with a two-range all-protocols egress rule and
// a rule naming another group, an EC2 role with AWS managed policies and
// its instance profile, an image found by name, a launch template, and a
// bastion instance); a plan then has no changes; the bastion runs in its
// public subnet with its profile and root volume, the private subnets
// route through the NAT gateway; a new instance type for the bastion
// applies; destroy leaves nothing behind.
func TestTerraformVpcNat(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "vpc-nat", "us-west-2")
	tf.lifecycle(func(out map[string]string) {
		ctx, c := context.Background(), shared.clients(tf.region)
		inst := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{out["bastion_id"]}})).must(t).Reservations[0].Instances[0]
		if inst.State.Name != types.InstanceStateNameRunning || inst.InstanceType != types.InstanceTypeT3Micro || aws.ToString(inst.VpcId) != out["vpc_id"] ||
			inst.PublicIpAddress == nil || inst.IamInstanceProfile == nil || !hasTag(inst.Tags, "Name", "core-bastion") {
			t.Fatalf("bastion = %+v", inst)
		}
		img := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{out["ami_id"]}})).must(t).Images[0]
		if aws.ToString(inst.ImageId) != *img.ImageId || *img.Name != *ecsImage(t, ctx, c).Name {
			t.Fatalf("the bastion's image %s is not the newest ECS-optimized one", *img.Name)
		}
		root := try(c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{filter("attachment.instance-id", out["bastion_id"]),
			filter("attachment.device", aws.ToString(inst.RootDeviceName))}})).must(t).Volumes
		if len(root) != 1 || aws.ToInt32(root[0].Size) != 30 || root[0].VolumeType != types.VolumeTypeGp3 || !aws.ToBool(root[0].Encrypted) {
			t.Fatalf("root volume = %+v", root)
		}
		nat := try(c.ec2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{filter("vpc-id", out["vpc_id"])}})).must(t).NatGateways
		if len(nat) != 1 || aws.ToString(nat[0].NatGatewayAddresses[0].PublicIp) != out["nat_public_ip"] {
			t.Fatalf("NAT gateways = %+v", nat)
		}
		private := try(c.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
			filter("route.nat-gateway-id", *nat[0].NatGatewayId)}})).must(t).RouteTables
		if len(private) != 1 || len(private[0].Associations) != 2 {
			t.Fatalf("route tables through the NAT gateway = %+v", private)
		}
		lt := try(c.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(out["launch_template_id"]),
			Versions: []string{"$Default"}})).must(t).LaunchTemplateVersions
		if len(lt) != 1 || aws.ToString(lt[0].LaunchTemplateData.ImageId) != out["ami_id"] || len(lt[0].LaunchTemplateData.BlockDeviceMappings) != 1 {
			t.Fatalf("launch template = %+v", lt)
		}
		policies := try(c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("core-instance")})).must(t).AttachedPolicies
		if len(policies) != 2 {
			t.Fatalf("the instance role's policies = %+v", policies)
		}

		// A new instance type: the provider stops the bastion, changes its
		// type and starts it again.
		tf.run("apply", "-auto-approve", "-var", "bastion_type=t3.small")
		inst = try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{out["bastion_id"]}})).must(t).Reservations[0].Instances[0]
		if inst.State.Name != types.InstanceStateNameRunning || inst.InstanceType != types.InstanceTypeT3Small {
			t.Fatalf("resized bastion = %+v", inst)
		}
	})
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Fatalf("terraform destroy left %v", left)
	}
	ctx, c := context.Background(), shared.clients(tf.region)
	if running := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		filter("instance-state-name", "pending", "running", "stopping", "stopped")}})).must(t).Reservations; len(running) > 0 {
		t.Fatalf("terraform destroy left instances %+v", running)
	}
	if eips := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})).must(t).Addresses; len(eips) > 0 {
		t.Fatalf("terraform destroy left Elastic IPs %+v", eips)
	}
	if volumes := try(c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})).must(t).Volumes; len(volumes) > 0 {
		t.Fatalf("terraform destroy left volumes %+v", volumes)
	}
	if lts := try(c.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})).must(t).LaunchTemplates; len(lts) > 0 {
		t.Fatalf("terraform destroy left launch templates %+v", lts)
	}
}
