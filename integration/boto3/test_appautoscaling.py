"""Application Auto Scaling for ECS services with boto3 (AWS JSON 1.1,
X-Amz-Target: AnyScaleFrontendService.*): targets, both policy types and
the alarms target tracking owns, scheduled actions, activities and the
errors of each."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

ECS = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "ResourceId": "service/c/web"}


@pytest.fixture
def service(aws, image):
    """An ECS service web in cluster c, with no task (the API only)."""
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "app", "image": image, "memory": 64}])
    ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=0)
    return ecs


def test_scalable_targets(aws, service):
    aas = aws("application-autoscaling")
    with pytest.raises(ClientError) as e:
        aas.register_scalable_target(**dict(ECS, ResourceId="service/c/missing"), MinCapacity=1, MaxCapacity=2)
    assert error_code(e) == "ValidationException" and "ECS service doesn't exist" in str(e.value)
    with pytest.raises(ClientError) as e:
        aas.register_scalable_target(ServiceNamespace="dynamodb", ScalableDimension="dynamodb:table:ReadCapacityUnits",
                                     ResourceId="table/t", MinCapacity=1, MaxCapacity=2)
    assert error_code(e) == "ValidationException"

    aas.register_scalable_target(**ECS, MinCapacity=0, MaxCapacity=4)
    # Re-registering updates what it names.
    aas.register_scalable_target(**ECS, MaxCapacity=6, SuspendedState={"ScheduledScalingSuspended": True})
    [t] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/c/web"])["ScalableTargets"]
    assert (t["MinCapacity"], t["MaxCapacity"]) == (0, 6)
    assert t["SuspendedState"] == {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False, "ScheduledScalingSuspended": True}
    assert t["RoleARN"].endswith(":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService")
    assert isinstance(t["CreationTime"], datetime)

    # Tags and ScalableTargetARN: the botocore that `make deps` installs
    # (Debian's 1.29) does not model them for this service; the SDK and
    # CLI tests cover them.

    aas.deregister_scalable_target(**ECS)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    with pytest.raises(ClientError) as e:
        aas.deregister_scalable_target(**ECS)
    assert error_code(e) == "ObjectNotFoundException"


def test_policies_and_their_alarms(aws, service):
    aas, cw = aws("application-autoscaling"), aws("cloudwatch")
    with pytest.raises(ClientError) as e:
        aas.put_scaling_policy(**ECS, PolicyName="p", PolicyType="StepScaling",
                               StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
                                                               "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]})
    assert error_code(e) == "ObjectNotFoundException"
    aas.register_scalable_target(**ECS, MinCapacity=1, MaxCapacity=10)

    out = aas.put_scaling_policy(**ECS, PolicyName="memory", PolicyType="TargetTrackingScaling",
                                 TargetTrackingScalingPolicyConfiguration={
                                     "TargetValue": 60.0,
                                     "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}})
    names = sorted(a["AlarmName"] for a in out["Alarms"])
    assert [n.split("-Alarm")[0] for n in names] == ["TargetTracking-service/c/web"] * 2
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high = next(a for n, a in alarms.items() if "-AlarmHigh-" in n)
    low = next(a for n, a in alarms.items() if "-AlarmLow-" in n)
    # AlarmHigh over the target for 3 minutes, AlarmLow under 90 % of it
    # for 15 (field report of the alarms AWS makes; User Guide).
    assert (high["Threshold"], high["EvaluationPeriods"], high["ComparisonOperator"]) == (60, 3, "GreaterThanThreshold")
    assert (low["Threshold"], low["EvaluationPeriods"], low["ComparisonOperator"]) == (54, 15, "LessThanThreshold")
    assert high["MetricName"] == "MemoryUtilization" and high["AlarmActions"] == [out["PolicyARN"]]

    # Updating the policy updates its alarms in place.
    aas.put_scaling_policy(**ECS, PolicyName="memory", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 80.0, "ScaleOutCooldown": 30,
                               "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}})
    assert cw.describe_alarms(AlarmNames=[high["AlarmName"]])["MetricAlarms"][0]["Threshold"] == 80

    # A customized metric (Debian's botocore predates metric math in it).
    aas.put_scaling_policy(**ECS, PolicyName="backlog", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={
                               "TargetValue": 100.0,
                               "CustomizedMetricSpecification": {"Namespace": "App", "MetricName": "QueuePerTask", "Statistic": "Average",
                                                                 "Dimensions": [{"Name": "Queue", "Value": "jobs"}]}})
    aas.put_scaling_policy(**ECS, PolicyName="step", PolicyType="StepScaling",
                           StepScalingPolicyConfiguration={
                               "AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 1, "Cooldown": 120,
                               "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": -25}]})
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/c/web")["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["memory", "backlog", "step"]
    assert policies[0]["TargetTrackingScalingPolicyConfiguration"]["ScaleOutCooldown"] == 30
    assert policies[2]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [{"MetricIntervalUpperBound": 0.0, "ScalingAdjustment": -25}]
    assert policies[2]["Alarms"] == []

    with pytest.raises(ClientError) as e:
        aas.put_scaling_policy(**ECS, PolicyName="bad", PolicyType="StepScaling",
                               StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "MinAdjustmentMagnitude": 1,
                                                               "StepAdjustments": [{"ScalingAdjustment": 1}]})
    assert error_code(e) == "ValidationException"

    aas.delete_scaling_policy(**ECS, PolicyName="memory")
    assert cw.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    with pytest.raises(ClientError) as e:
        aas.delete_scaling_policy(**ECS, PolicyName="memory")
    assert error_code(e) == "ObjectNotFoundException"


def test_scheduled_action_scales_the_service(aws, service):
    aas = aws("application-autoscaling")
    aas.register_scalable_target(**ECS, MinCapacity=0, MaxCapacity=3)
    at = datetime.now(timezone.utc) + timedelta(seconds=2)
    aas.put_scheduled_action(**ECS, ScheduledActionName="burst", Schedule="at(%s)" % at.strftime("%Y-%m-%dT%H:%M:%S"),
                             ScalableTargetAction={"MinCapacity": 2, "MaxCapacity": 3})
    aas.put_scheduled_action(**ECS, ScheduledActionName="weekday", Schedule="cron(0 9 ? * MON-FRI *)",
                             Timezone="America/New_York", ScalableTargetAction={"MinCapacity": 1})
    actions = aas.describe_scheduled_actions(ServiceNamespace="ecs", ScheduledActionNames=["weekday"])["ScheduledActions"]
    assert [(a["Schedule"], a["Timezone"]) for a in actions] == [("cron(0 9 ? * MON-FRI *)", "America/New_York")]

    waiter_deadline = datetime.now(timezone.utc) + timedelta(seconds=60)
    while service.describe_services(cluster="c", services=["web"])["services"][0]["desiredCount"] != 2:
        assert datetime.now(timezone.utc) < waiter_deadline, "the scheduled action never ran"
        time.sleep(0.2)
    activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId="service/c/web")["ScalingActivities"]
    causes = [a["Cause"] for a in activities]
    assert "scheduled action name burst was triggered" in causes and "minimum capacity was set to 2" in causes
    assert all(a["StatusCode"] == "Successful" for a in activities)

    with pytest.raises(ClientError) as e:
        aas.put_scheduled_action(**ECS, ScheduledActionName="bad", Schedule="cron(0 9 * * ? *)", Timezone="Nowhere/Special")
    assert error_code(e) == "ValidationException"
    aas.delete_scheduled_action(**ECS, ScheduledActionName="weekday")
    with pytest.raises(ClientError) as e:
        aas.delete_scheduled_action(**ECS, ScheduledActionName="weekday")
    assert error_code(e) == "ObjectNotFoundException"
