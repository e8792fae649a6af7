import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, ENDPOINT, REGION, error_code

FAST = {"Delay": 1, "MaxAttempts": 120}


def web(image, name="web"):
    return {"name": name, "image": image, "memory": 64, "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 0}],
            "healthCheck": {"command": ["CMD", "/app", "check"], "interval": 5, "timeout": 2, "retries": 3}}


def default_subnets(aws):
    subnets = aws("ec2").describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [s["SubnetId"] for s in subnets], subnets[0]["VpcId"]


def address_of(dns_name):
    """The local address berth gave a load balancer, from /_berth/hosts."""
    for _ in range(100):
        hosts = urllib.request.urlopen(ENDPOINT + "/_berth/hosts", timeout=10).read().decode()
        for line in hosts.splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[1] == dns_name.lower():
                return fields[0]
        time.sleep(0.1)
    raise AssertionError(f"{dns_name} not in /_berth/hosts")


def get_json(url):
    """GET url as JSON, retrying while nothing answers yet: a RUNNING task's
    containers have started, not necessarily their servers."""
    for _ in range(100):
        try:
            return json.loads(urllib.request.urlopen(url, timeout=10).read())
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_clusters_and_task_definitions(aws, image):
    ecs = aws("ecs")
    assert ecs.list_clusters()["clusterArns"] == []
    cluster = ecs.create_cluster(clusterName="apps", settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]
    assert cluster["clusterArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/apps"
    assert cluster["status"] == "ACTIVE"

    td = ecs.register_task_definition(family="web", containerDefinitions=[web(image)])["taskDefinition"]
    assert td["revision"] == 1 and td["status"] == "ACTIVE"
    assert td["containerDefinitions"][0]["portMappings"][0]["protocol"] == "tcp"
    ecs.register_task_definition(family="web", containerDefinitions=[web(image)])
    assert ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:2"]
    ecs.deregister_task_definition(taskDefinition="web:1")
    assert ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["status"] == "INACTIVE"

    with pytest.raises(ClientError) as e:
        ecs.describe_services(cluster="nowhere", services=["x"])
    assert error_code(e) == "ClusterNotFoundException"
    with pytest.raises(ClientError) as e:
        ecs.register_task_definition(family="bad", containerDefinitions=[])
    assert error_code(e) == "ClientException"
    with pytest.raises(ClientError) as e:
        ecs.register_task_definition(family="ghost", containerDefinitions=[web(image)],
                                     taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ghost")
    assert error_code(e) == "ClientException"


def test_run_task_in_docker(aws, image):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="jobs")
    ecs.register_task_definition(family="web", containerDefinitions=[web(image)])
    task = ecs.run_task(cluster="jobs", taskDefinition="web")["tasks"][0]
    ecs.get_waiter("tasks_running").wait(cluster="jobs", tasks=[task["taskArn"]], WaiterConfig=FAST)
    task = ecs.describe_tasks(cluster="jobs", tasks=[task["taskArn"]])["tasks"][0]
    port = task["containers"][0]["networkBindings"][0]["hostPort"]
    body = get_json(f"http://127.0.0.1:{port}/")
    assert task["containers"][0]["runtimeId"].startswith(body["hostname"])

    ecs.stop_task(cluster="jobs", task=task["taskArn"], reason="done")
    ecs.get_waiter("tasks_stopped").wait(cluster="jobs", tasks=[task["taskArn"]], WaiterConfig=FAST)
    task = ecs.describe_tasks(cluster="jobs", tasks=[task["taskArn"]])["tasks"][0]
    assert task["stoppedReason"] == "done" and task["stopCode"] == "UserInitiated"


def test_load_balancer_api(aws):
    elb = aws("elbv2")
    subnets, vpc = default_subnets(aws)
    lb = elb.create_load_balancer(Name="api", Subnets=subnets, Tags=[{"Key": "team", "Value": "web"}])["LoadBalancers"][0]
    assert lb["VpcId"] == vpc and lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert len(lb["AvailabilityZones"]) == len(subnets)
    tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/health")["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]
    rule = elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                           Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                           Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Rules"][0]
    rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "default"] and rules[0]["RuleArn"] == rule["RuleArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "5"
    assert elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"] == [{"Key": "team", "Value": "web"}]

    with pytest.raises(ClientError) as e:
        elb.create_load_balancer(Name="other", Subnets=[subnets[0], "subnet-00000000000000000"])
    assert error_code(e) == "SubnetNotFound"
    with pytest.raises(ClientError) as e:
        elb.describe_load_balancers(Names=["nope"])
    assert error_code(e) == "LoadBalancerNotFound"
    with pytest.raises(ClientError) as e:
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                        Conditions=[{"Field": "path-pattern", "Values": ["/other"]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    assert error_code(e) == "PriorityInUse"


def test_service_behind_alb(aws, image):
    ecs, elb = aws("ecs"), aws("elbv2")
    subnets, vpc = default_subnets(aws)
    lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/health",
                                 HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=2)["TargetGroups"][0]
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    ecs.create_cluster(clusterName="web")
    ecs.register_task_definition(family="web", containerDefinitions=[web(image)])
    ecs.create_service(cluster="web", serviceName="web", taskDefinition="web", desiredCount=2,
                       loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web", "containerPort": 8080}])
    ecs.get_waiter("services_stable").wait(cluster="web", services=["web"], WaiterConfig=FAST)
    # services_stable looks at task counts, not target health: target_in_service waits for that,
    # as botocore's waiters-2.json define them.
    elb.get_waiter("target_in_service").wait(TargetGroupArn=tg["TargetGroupArn"], WaiterConfig=FAST)
    health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy", "healthy"]

    # A real request through the load balancer's listener reaches a task.
    address = address_of(lb["DNSName"])
    hostnames = set()
    for _ in range(10):
        hostnames.add(json.loads(urllib.request.urlopen(f"http://{address}/", timeout=10).read())["hostname"])
    tasks = ecs.describe_tasks(cluster="web", tasks=ecs.list_tasks(cluster="web")["taskArns"])["tasks"]
    assert hostnames == {t["containers"][0]["runtimeId"][:12] for t in tasks}

    ecs.delete_service(cluster="web", service="web", force=True)
    ecs.get_waiter("services_inactive").wait(cluster="web", services=["web"], WaiterConfig=FAST)
