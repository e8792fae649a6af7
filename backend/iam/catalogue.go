package iam

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// awsPolicy is one AWS managed policy as the AWS Managed Policy Reference
// publishes it, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html:
// its path (from its ARN), description (IAM's own Description value),
// creation and last edit times (to the minute, UTC) and default version.
//
// document is the policy's real document for the ones ECS itself needs;
// the others get a placeholder built from actions: a short document true
// to the policy's intent, not AWS's text (berth enforces no policy).
type awsPolicy struct {
	path, name, description string
	created, edited         string // "2006-01-02 15:04", UTC
	version                 string
	document                string
	actions                 []string
}

// awsPolicies are the AWS managed policies ECS, ALB and Terraform stacks
// attach, as a table. Their PolicyIds are made up (see madeUpPolicyID).
func awsPolicies() []awsPolicy {
	return []awsPolicy{
		// Job functions and account-wide access.
		{"/", "AdministratorAccess", "Provides full access to AWS services and resources.", "2015-02-06 18:39", "2015-02-06 18:39", "v1",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, nil},
		{"/", "PowerUserAccess", "Provides full access to AWS services and resources, but does not allow management of Users and groups.", "2015-02-06 18:39", "2026-02-12 17:59", "v12",
			"", []string{"ec2:*", "ecs:*", "ecr:*", "elasticloadbalancing:*", "logs:*", "s3:*"}},
		{"/", "ReadOnlyAccess", "Provides read-only access to AWS services and resources.", "2015-02-06 18:39", "2026-05-18 15:42", "v185",
			"", []string{"ec2:Describe*", "ecs:Describe*", "ecs:List*", "ecr:Describe*", "elasticloadbalancing:Describe*", "iam:Get*", "iam:List*", "logs:Describe*", "s3:Get*", "s3:List*"}},
		{"/job-function/", "ViewOnlyAccess", "This policy grants permissions to view resources and basic metadata across all AWS services", "2016-11-10 17:20", "2026-04-22 18:12", "v45",
			"", []string{"ec2:Describe*", "ecs:List*", "elasticloadbalancing:Describe*", "s3:ListAllMyBuckets"}},
		{"/", "IAMFullAccess", "Provides full access to IAM via the AWS Management Console.", "2015-02-06 18:40", "2019-06-21 19:40", "v2",
			"", []string{"iam:*", "organizations:DescribeOrganization", "organizations:ListAccounts"}},
		{"/", "IAMReadOnlyAccess", "Provides read only access to IAM via the AWS Management Console.", "2015-02-06 18:40", "2018-01-25 19:11", "v4",
			"", []string{"iam:Get*", "iam:List*"}},

		// Storage, data and messaging.
		{"/", "AmazonS3FullAccess", "Provides full access to all buckets via the AWS Management Console.", "2015-02-06 18:40", "2021-09-27 20:16", "v2",
			"", []string{"s3:*"}},
		{"/", "AmazonS3ReadOnlyAccess", "Provides read only access to all buckets via the AWS Management Console.", "2015-02-06 18:40", "2023-08-10 21:31", "v3",
			"", []string{"s3:Get*", "s3:List*"}},
		{"/", "AmazonDynamoDBFullAccess", "Provides full access to Amazon DynamoDB via the AWS Management Console.", "2015-02-06 18:40", "2021-01-29 17:38", "v15",
			"", []string{"dynamodb:*"}},
		{"/", "AmazonDynamoDBReadOnlyAccess", "Provides read only access to Amazon DynamoDB via the AWS Management Console.", "2015-02-06 18:40", "2024-11-18 17:38", "v15",
			"", []string{"dynamodb:Describe*", "dynamodb:List*", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}},
		{"/", "AmazonSQSFullAccess", "Provides full access to Amazon SQS via the AWS Management Console.", "2015-02-06 18:41", "2015-02-06 18:41", "v1",
			"", []string{"sqs:*"}},
		{"/", "AmazonSNSFullAccess", "Provides full access to Amazon SNS via the AWS Management Console.", "2015-02-06 18:40", "2024-09-24 22:32", "v2",
			"", []string{"sns:*"}},
		{"/", "SecretsManagerReadWrite", "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.", "2018-04-04 18:05", "2024-02-22 18:12", "v5",
			"", []string{"secretsmanager:*", "kms:DescribeKey", "kms:ListAliases"}},
		{"/", "AmazonElasticFileSystemClientReadWriteAccess", "Provides read write client access to an Amazon EFS file system.", "2020-01-13 16:21", "2020-01-13 16:21", "v1",
			"", []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:DescribeMountTargets"}},

		// Compute and networking.
		{"/", "AmazonEC2FullAccess", "Provides full access to Amazon EC2 via the AWS Management Console.", "2015-02-06 18:40", "2018-11-27 02:16", "v5",
			"", []string{"ec2:*", "elasticloadbalancing:*", "autoscaling:*", "cloudwatch:*"}},
		{"/", "AmazonEC2ReadOnlyAccess", "Provides read only access to Amazon EC2 via the AWS Management Console.", "2015-02-06 18:40", "2026-02-12 18:03", "v5",
			"", []string{"ec2:Describe*", "elasticloadbalancing:Describe*", "autoscaling:Describe*", "cloudwatch:Describe*"}},
		{"/", "AmazonVPCFullAccess", "Provides full access to Amazon VPC via the AWS Management Console.", "2015-02-06 18:41", "2026-02-12 18:00", "v13",
			"", []string{"ec2:*Vpc*", "ec2:*Subnet*", "ec2:*Gateway*", "ec2:*Route*", "ec2:*Address*", "ec2:*SecurityGroup*", "ec2:*NetworkAcl*", "ec2:Describe*"}},
		{"/", "AmazonRDSFullAccess", "Provides full access to Amazon RDS via the AWS Management Console.", "2015-02-06 18:40", "2023-08-17 23:00", "v14",
			"", []string{"rds:*", "ec2:Describe*", "cloudwatch:GetMetricData"}},
		{"/", "AmazonRoute53FullAccess", "Provides full access to all Amazon Route 53 via the AWS Management Console.", "2015-02-06 18:40", "2026-02-12 18:00", "v7",
			"", []string{"route53:*", "route53domains:*", "ec2:DescribeVpcs"}},
		{"/", "AutoScalingFullAccess", "Provides full access to Auto Scaling.", "2017-01-12 19:31", "2018-02-06 21:59", "v2",
			"", []string{"autoscaling:*", "cloudwatch:PutMetricAlarm", "ec2:Describe*"}},
		{"/", "ElasticLoadBalancingFullAccess", "Provides full access to Amazon ElasticLoadBalancing, and limited access to other services necessary to provide ElasticLoadBalancing features.", "2018-09-20 20:42", "2026-10-09 19:27", "v10",
			"", []string{"elasticloadbalancing:*", "ec2:Describe*", "acm:ListCertificates", "acm:DescribeCertificate"}},
		{"/", "ElasticLoadBalancingReadOnly", "Provides read only access to Amazon ElasticLoadBalancing and dependent services", "2018-09-20 20:17", "2023-11-26 18:15", "v3",
			"", []string{"elasticloadbalancing:Describe*", "ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"}},
		{"/", "AWSCloudMapFullAccess", "Provides full access to all AWS Cloud Map actions.", "2019-02-06 20:08", "2020-07-29 19:15", "v2",
			"", []string{"servicediscovery:*", "route53:GetHostedZone", "route53:ListHostedZonesByName", "ec2:DescribeVpcs"}},
		{"/service-role/", "AWSLambdaBasicExecutionRole", "Provides write permissions to CloudWatch Logs.", "2015-04-09 15:03", "2015-04-09 15:03", "v1",
			"", []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}},

		// Containers.
		{"/service-role/", "AmazonECSTaskExecutionRolePolicy", "Provides access to other AWS service resources that are required to run Amazon ECS tasks", "2017-11-16 18:48", "2017-11-16 18:48", "v1",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`, nil},
		{"/service-role/", "AmazonEC2ContainerServiceforEC2Role", "Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.", "2015-03-19 18:45", "2026-02-12 17:59", "v10",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeTags","ecs:CreateCluster","ecs:DeregisterContainerInstance","ecs:DiscoverPollEndpoint","ecs:Poll","ecs:RegisterContainerInstance","ecs:StartTelemetrySession","ecs:UpdateContainerInstancesState","ecs:Submit*","ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`, nil},
		{"/service-role/", "AmazonEC2ContainerServiceRole", "Default policy for Amazon ECS service role.", "2015-04-09 16:14", "2016-08-11 13:08", "v2",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:AuthorizeSecurityGroupIngress","ec2:Describe*","elasticloadbalancing:DeregisterInstancesFromLoadBalancer","elasticloadbalancing:DeregisterTargets","elasticloadbalancing:Describe*","elasticloadbalancing:RegisterInstancesWithLoadBalancer","elasticloadbalancing:RegisterTargets"],"Resource":"*"}]}`, nil},
		{"/service-role/", "AmazonEC2ContainerServiceAutoscaleRole", "Policy to enable Task Autoscaling for Amazon EC2 Container Service", "2016-05-12 23:25", "2018-02-05 19:15", "v2",
			"", []string{"ecs:DescribeServices", "ecs:UpdateService", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"}},
		{"/service-role/", "AmazonEC2ContainerServiceEventsRole", "Policy to enable CloudWatch Events for EC2 Container Service", "2017-05-30 16:51", "2023-03-06 22:25", "v3",
			"", []string{"ecs:RunTask", "ecs:TagResource", "iam:PassRole"}},
		{"/", "AmazonECS_FullAccess", "Provides administrative access to Amazon ECS resources and enables ECS features through access to other AWS service resources, including VPCs, Auto Scaling groups, and CloudFormation stacks.", "2017-11-07 21:36", "2026-09-02 14:47", "v22",
			"", []string{"ecs:*", "elasticloadbalancing:*", "application-autoscaling:*", "servicediscovery:*", "ec2:Describe*", "iam:PassRole"}},
		{"/", "AmazonEC2ContainerRegistryFullAccess", "Provides administrative access to Amazon ECR resources", "2015-12-21 17:06", "2020-12-05 00:04", "v3",
			"", []string{"ecr:*", "cloudtrail:LookupEvents"}},
		{"/", "AmazonEC2ContainerRegistryPowerUser", "Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.", "2015-12-21 17:05", "2019-12-10 20:48", "v3",
			"", []string{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:Describe*", "ecr:List*", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"}},
		{"/", "AmazonEC2ContainerRegistryReadOnly", "Provides read-only access to Amazon EC2 Container Registry repositories.", "2015-12-21 17:04", "2019-12-10 20:56", "v3",
			"", []string{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:Describe*", "ecr:List*"}},

		// Logs, metrics, tracing and instance management.
		{"/", "CloudWatchFullAccess", "Provides full access to CloudWatch.", "2015-02-06 18:40", "2022-11-27 13:23", "v4",
			"", []string{"cloudwatch:*", "logs:*", "events:*", "sns:ListTopics"}},
		{"/", "CloudWatchReadOnlyAccess", "Provides read only access to CloudWatch.", "2015-02-06 18:40", "2026-02-12 18:01", "v24",
			"", []string{"cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*", "logs:Describe*", "logs:Get*"}},
		{"/", "CloudWatchAgentServerPolicy", "Permissions required to use AmazonCloudWatchAgent on servers", "2017-09-13 00:53", "2024-02-06 16:37", "v3",
			"", []string{"cloudwatch:PutMetricData", "ec2:DescribeTags", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "ssm:GetParameter"}},
		{"/", "CloudWatchLogsFullAccess", "Provides full access to CloudWatch Logs", "2015-02-06 18:40", "2026-02-12 18:00", "v8",
			`{"Version":"2012-10-17","Statement":[{"Action":["logs:*"],"Effect":"Allow","Resource":"*"}]}`, nil},
		{"/", "CloudWatchLogsReadOnlyAccess", "Provides read only access to CloudWatch Logs", "2015-02-06 18:40", "2026-02-12 17:59", "v12",
			"", []string{"logs:Describe*", "logs:Get*", "logs:List*", "logs:StartQuery", "logs:StopQuery", "logs:FilterLogEvents"}},
		{"/", "AWSXRayDaemonWriteAccess", "Allow the AWS X-Ray Daemon to relay raw trace segments data to the service's API and retrieve sampling data (rules, targets, etc.) to be used by the X-Ray SDK.", "2018-08-28 23:00", "2024-02-13 21:58", "v2",
			"", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"}},
		{"/", "AmazonSSMManagedInstanceCore", "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.", "2019-03-15 17:22", "2019-05-23 16:54", "v2",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDocument","ssm:UpdateInstanceInformation","ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel","ec2messages:GetMessages"],"Resource":"*"}]}`, nil},
		{"/", "AmazonSSMFullAccess", "Provides full access to Amazon SSM.", "2015-05-29 17:39", "2019-11-20 20:08", "v4",
			"", []string{"ssm:*", "ec2messages:*", "cloudwatch:PutMetricData", "ec2:DescribeInstances", "ds:CreateComputer", "ds:DescribeDirectories"}},
		{"/", "AmazonSSMReadOnlyAccess", "Provides read only access to Amazon SSM.", "2015-05-29 17:44", "2015-05-29 17:44", "v1",
			"", []string{"ssm:Describe*", "ssm:Get*", "ssm:List*"}},
	}
}

// awsManaged returns the AWS managed policies by ARN, built once from
// awsPolicies.
var awsManaged = sync.OnceValue(func() map[string]managedPolicy {
	table := awsPolicies()
	byArn := make(map[string]managedPolicy, len(table))
	for _, p := range table {
		arn := "arn:aws:iam::aws:policy" + p.path + p.name
		doc := p.document
		if doc == "" {
			doc = placeholder(p.actions)
		}
		byArn[arn] = managedPolicy{Document: doc, Policy: types.Policy{
			Arn: aws.String(arn), PolicyName: aws.String(p.name), Path: aws.String(p.path), PolicyId: aws.String(madeUpPolicyID(arn)),
			Description: aws.String(p.description), DefaultVersionId: aws.String(p.version), IsAttachable: true,
			CreateDate: minute(p.created), UpdateDate: minute(p.edited),
			AttachmentCount: aws.Int32(0), PermissionsBoundaryUsageCount: aws.Int32(0),
		}}
	}
	return byArn
})

// placeholder is an allow-all-on-every-resource document of actions.
func placeholder(actions []string) string {
	doc, _ := json.Marshal(map[string]any{
		"Version":   "2012-10-17",
		"Statement": []map[string]any{{"Effect": "Allow", "Action": actions, "Resource": "*"}},
	})
	return string(doc)
}

// madeUpPolicyID is a stable policy id of AWS's form, ANPA and 17 upper-case
// letters and digits, drawn from the ARN: AWS's real ids are not published.
func madeUpPolicyID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func minute(s string) *time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic("iam: bad time in the AWS managed policy table: " + s)
	}
	return &t
}
