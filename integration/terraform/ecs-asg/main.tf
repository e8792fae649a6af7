# An ECS cluster whose capacity is an Auto Scaling group: a launch template
# of ECS-optimized hosts that join the cluster, a group of one to three of
# them protected from scale in, and a capacity provider with managed
# scaling and managed termination protection as the cluster's default
# strategy. A bridge-networked service with dynamic host ports runs on it
# behind an ALB whose listener sends HSTS and no Server header, and whose
# rule answers clients that send a given header itself.

variable "image" {
  type = string
}

# The ECS-optimized Amazon Linux 2023 AMI, as AWS publishes it.
data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

variable "app_version" {
  type    = string
  default = "1"
}

locals {
  name = "shop"
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

resource "aws_ecs_cluster" "main" {
  name = local.name
}

# Hosts: the role the ECS agent runs with, and the launch template.

resource "aws_iam_role" "host" {
  name = "${local.name}-ecs-host"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "host" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "host" {
  name = "${local.name}-ecs-host"
  role = aws_iam_role.host.name
}

resource "aws_security_group" "host" {
  name        = "${local.name}-ecs-host"
  description = "ECS hosts: dynamic ports from the load balancer"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port       = 32768
    to_port         = 65535
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_launch_template" "host" {
  name_prefix            = "${local.name}-ecs-host-"
  image_id               = data.aws_ssm_parameter.ecs_ami.value
  instance_type          = "t3.small"
  vpc_security_group_ids = [aws_security_group.host.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.host.arn
  }

  user_data = base64encode(<<-EOT
    #!/bin/bash
    echo ECS_CLUSTER=${aws_ecs_cluster.main.name} >> /etc/ecs/ecs.config
  EOT
  )

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name = "${local.name}-ecs-host"
    }
  }
}

resource "aws_autoscaling_group" "hosts" {
  name                      = "${local.name}-ecs-hosts"
  min_size                  = 1
  max_size                  = 3
  desired_capacity          = 1
  vpc_zone_identifier       = data.aws_subnets.default.ids
  protect_from_scale_in     = true
  health_check_type         = "EC2"
  health_check_grace_period = 0
  wait_for_capacity_timeout = "5m"

  launch_template {
    id      = aws_launch_template.host.id
    version = "$Latest"
  }

  initial_lifecycle_hook {
    name                 = "drain"
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    default_result       = "CONTINUE"
    heartbeat_timeout    = 300
  }

  warm_pool {
    pool_state                  = "Stopped"
    min_size                    = 0
    max_group_prepared_capacity = 2
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = true
    propagate_at_launch = true
  }

  tag {
    key                 = "Cluster"
    value               = aws_ecs_cluster.main.name
    propagate_at_launch = true
  }

  # The capacity provider's managed scaling owns the desired capacity.
  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_lifecycle_hook" "launching" {
  name                   = "launching"
  autoscaling_group_name = aws_autoscaling_group.hosts.name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_LAUNCHING"
  default_result         = "CONTINUE"
  heartbeat_timeout      = 60
}

resource "aws_ecs_capacity_provider" "hosts" {
  name = "${local.name}-hosts"

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.hosts.arn
    managed_termination_protection = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 100
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 2
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = [aws_ecs_capacity_provider.hosts.name]

  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.hosts.name
    weight            = 1
    base              = 1
  }
}

# The load balancer.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "HTTP from anywhere"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "main" {
  name               = local.name
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = data.aws_subnets.default.ids
}

resource "aws_lb_target_group" "app" {
  name                 = local.name
  port                 = 80
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  target_type          = "instance"
  deregistration_delay = 5

  health_check {
    path                = "/health"
    interval            = 5
    timeout             = 2
    healthy_threshold   = 2
    unhealthy_threshold = 2
    matcher             = "200"
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  routing_http_response_server_enabled                         = false
  routing_http_response_strict_transport_security_header_value = "max-age=31536000; includeSubDomains; preload"
  routing_http_response_x_content_type_options_header_value    = "nosniff"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_lb_listener_rule" "health_checker" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "hello, checker"
      status_code  = "200"
    }
  }

  condition {
    http_header {
      http_header_name = "User-Agent"
      values           = ["Uptime Checker *"]
    }
  }
}

# The service.

resource "aws_ecs_task_definition" "app" {
  family                   = local.name
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"

  container_definitions = jsonencode([{
    name      = "app"
    image     = var.image
    memory    = 64
    essential = true
    environment = [
      { name = "APP_NAME", value = local.name },
      { name = "APP_VERSION", value = var.app_version },
    ]
    portMappings = [{ containerPort = 8080, hostPort = 0, protocol = "tcp" }]
  }])
}

resource "aws_ecs_service" "app" {
  name            = local.name
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 2

  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.hosts.name
    weight            = 1
    base              = 1
  }

  ordered_placement_strategy {
    type  = "spread"
    field = "attribute:ecs.availability-zone"
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "app"
    container_port   = 8080
  }

  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200
  wait_for_steady_state              = true

  depends_on = [aws_ecs_cluster_capacity_providers.main, aws_lb_listener.http]
}

output "ami" {
  value     = data.aws_ssm_parameter.ecs_ami.value
  sensitive = true
}

output "dns_name" {
  value = aws_lb.main.dns_name
}

output "asg_name" {
  value = aws_autoscaling_group.hosts.name
}

output "asg_arn" {
  value = aws_autoscaling_group.hosts.arn
}
