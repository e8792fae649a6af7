import pytest
from botocore.exceptions import ClientError

from conftest import REGION, error_code


def test_default_vpc(aws):
    ec2 = aws("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["172.31.0.0/16"]
    vpc = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert sorted(s["AvailabilityZone"] for s in subnets) == zones
    assert all(z.startswith(REGION) for z in zones)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])
    assert len(groups["SecurityGroups"]) == 1
    assert REGION in [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    attrs = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert attrs[0]["AttributeValues"][0]["AttributeValue"] == vpc


def test_vpc_network(aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=REGION + "a")["Subnet"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone=REGION + "b")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.128/25")
    assert error_code(e) == "InvalidSubnet.Conflict"

    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
    assert sorted((r["IsEgress"], r["IpProtocol"]) for r in rules) == [(False, "tcp"), (True, "-1")]
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert error_code(e) == "InvalidPermission.Duplicate"

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=a["SubnetId"])
    table = ec2.describe_route_tables(RouteTableIds=[rt])["RouteTables"][0]
    assert {r.get("GatewayId") for r in table["Routes"]} == {"local", igw}

    ec2.create_tags(Resources=[sg], Tags=[{"Key": "team", "Value": "web"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [sg]}])["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("team", "web")]
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["app"]}])["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [vpc]

    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vpc)
    assert error_code(e) == "DependencyViolation"
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=["vpc-0123456789abcdef0"])
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_addresses_nat_gateways_instances(aws):
    ec2 = aws("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip["AllocationId"])["NatGateway"]
    ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat["NatGatewayId"]], WaiterConfig={"Delay": 1})
    with pytest.raises(ClientError) as e:
        ec2.release_address(AllocationId=eip["AllocationId"])
    assert error_code(e) == "InvalidIPAddress.InUse"
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    ec2.release_address(AllocationId=eip["AllocationId"])
    assert ec2.describe_addresses()["Addresses"] == []

    reservation = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.micro")
    instance = reservation["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig={"Delay": 1})
    ec2.terminate_instances(InstanceIds=[instance])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance], WaiterConfig={"Delay": 1})
    assert ec2.describe_network_interfaces()["NetworkInterfaces"] == []
