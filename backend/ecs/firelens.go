package ecs

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend/runtime"
)

// FireLens routes a container's output through a log router container of
// the task (Fluent Bit or Fluentd) to where its awsfirelens log options
// say. berth does the router's part for the destination it serves: the
// CloudWatch Logs output plugins (Name cloudwatch or cloudwatch_logs)
// write to a log group as awslogs does, each line a record as the router
// receives it. Output sent to any other destination stays in Docker.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy-container-insights-ECS-logs.html

// firelens is how a container's lines become FireLens records.
type firelens struct {
	logKey   string         // log_key: "log" sends each line alone
	metadata bool           // enable-ecs-log-metadata, on unless the router turns it off
	record   firelensRecord // the fields every record of the container has
}

// firelensRecord is one line as the log router receives it from Docker's
// fluentd log driver, with the ECS metadata FireLens adds.
type firelensRecord struct {
	ContainerID       string `json:"container_id"`
	ContainerName     string `json:"container_name"`
	ECSCluster        string `json:"ecs_cluster,omitempty"`
	ECSTaskArn        string `json:"ecs_task_arn,omitempty"`
	ECSTaskDefinition string `json:"ecs_task_definition,omitempty"`
	Log               string `json:"log"`
	Source            string `json:"source"`
}

// firelensOf returns the CloudWatch Logs destination of a container whose
// awsfirelens options name a CloudWatch output plugin, or nil.
func firelensOf(k taskRef, td types.TaskDefinition, cd types.ContainerDefinition, dockerName string) *awslogs {
	lc := cd.LogConfiguration
	if lc == nil || lc.LogDriver != types.LogDriverAwsfirelens {
		return nil
	}
	o := lc.Options
	if name := strings.ToLower(o["Name"]); name != "cloudwatch" && name != "cloudwatch_logs" {
		return nil
	}
	s := k.Scope
	if region := o["region"]; region != "" {
		s.Region = region
	}
	f := &firelens{logKey: o["log_key"], metadata: true, record: firelensRecord{ContainerName: "/" + dockerName}}
	for _, router := range td.ContainerDefinitions {
		if fc := router.FirelensConfiguration; fc != nil && strings.EqualFold(fc.Options["enable-ecs-log-metadata"], "false") {
			f.metadata = false
		}
	}
	if f.metadata {
		f.record.ECSCluster, f.record.ECSTaskArn = k.cluster, k.arn
		f.record.ECSTaskDefinition = aws.ToString(td.Family) + ":" + strconv.Itoa(int(td.Revision))
	}
	return &awslogs{scope: s, group: o["log_group_name"], prefix: o["log_stream_prefix"], name: o["log_stream_name"],
		createGroup: strings.EqualFold(o["auto_create_group"], "true"), firelens: f}
}

// message is the event one line of output becomes: the record as JSON,
// or the line alone with log_key log.
func (f *firelens) message(containerID string, source runtime.Stream, line string) string {
	if f.logKey == "log" {
		return line
	}
	r := f.record
	r.ContainerID, r.Source, r.Log = containerID, string(source), line
	b, _ := json.Marshal(r)
	return string(b)
}
