import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def now_ms():
    return int(time.time() * 1000)


def test_groups_streams_events(aws):
    logs = aws("logs")
    logs.create_log_group(logGroupName="/ecs/web", tags={"team": "web"})
    logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=7)
    groups = logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [("/ecs/web", 7)]
    assert logs.list_tags_log_group(logGroupName="/ecs/web")["tags"] == {"team": "web"}

    logs.create_log_stream(logGroupName="/ecs/web", logStreamName="web/app/1")
    logs.create_log_stream(logGroupName="/ecs/web", logStreamName="web/app/2")
    t = now_ms()
    logs.put_log_events(logGroupName="/ecs/web", logStreamName="web/app/1", logEvents=[
        {"timestamp": t, "message": "GET /health 200"},
        {"timestamp": t + 1, "message": "GET /orders 500 boom"},
    ])
    logs.put_log_events(logGroupName="/ecs/web", logStreamName="web/app/2", logEvents=[
        {"timestamp": t + 2, "message": "GET /orders 200"},
    ])
    streams = logs.describe_log_streams(logGroupName="/ecs/web", logStreamNamePrefix="web/app/")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["web/app/1", "web/app/2"]

    events = logs.get_log_events(logGroupName="/ecs/web", logStreamName="web/app/1", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["GET /health 200", "GET /orders 500 boom"]
    found = logs.filter_log_events(logGroupName="/ecs/web", filterPattern="orders")["events"]
    assert [(e["logStreamName"], e["message"]) for e in found] == [
        ("web/app/1", "GET /orders 500 boom"), ("web/app/2", "GET /orders 200")]

    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="/ecs/web")
    assert error_code(e) == "ResourceAlreadyExistsException"
    logs.delete_log_group(logGroupName="/ecs/web")
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName="/ecs/web", logStreamName="web/app/1")
    assert error_code(e) == "ResourceNotFoundException"
