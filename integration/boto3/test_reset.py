"""The reset before every test leaves nothing of the one before: these two
tests run in order, the first creating state in every service."""

import json
import subprocess
import urllib.request

from conftest import ENDPOINT
from test_ecs_elbv2 import default_subnets, web


def test_1_create_everything(aws, image):
    aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    aws("logs").create_log_group(logGroupName="g")
    aws("ec2").create_vpc(CidrBlock="10.9.0.0/16")
    subnets, _ = default_subnets(aws)
    aws("elbv2").create_load_balancer(Name="lb", Subnets=subnets)
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="web", containerDefinitions=[web(image)])
    task = ecs.run_task(cluster="c", taskDefinition="web")["tasks"][0]
    ecs.get_waiter("tasks_running").wait(cluster="c", tasks=[task["taskArn"]], WaiterConfig={"Delay": 1})


def test_2_nothing_left(aws):
    assert aws("iam").list_roles()["Roles"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert [v["CidrBlock"] for v in aws("ec2").describe_vpcs()["Vpcs"]] == ["172.31.0.0/16"]
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert aws("ecs").list_clusters()["clusterArns"] == []
    instance = json.loads(urllib.request.urlopen(ENDPOINT + "/_berth/health", timeout=10).read())["instance"]
    containers = subprocess.run(["docker", "ps", "-aq", "--filter", "label=berth.instance=" + instance],
                                capture_output=True, text=True, check=True).stdout.split()
    assert containers == []
