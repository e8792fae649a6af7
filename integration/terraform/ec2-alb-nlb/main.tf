# Two ECS services on the EC2 launch type in one configuration (one apply:
# the provider waits 30 s twice for each load balancer, and the two waits
# overlap):
#
# - bridge networking with dynamic host ports, two tasks behind an
#   internet-facing ALB in the default VPC, which routes /api/* to them
#   and answers anything else with a fixed 404;
# - a TCP service behind a Network Load Balancer: a container that listens
#   on a TCP port, a TCP target group with a TCP health check, and a TCP
#   listener; the target group is attached to the service by ECS. Also:
#   the cluster's capacity providers, and a spare IP target group with a
#   target attached by Terraform.

variable "image" {
  type = string
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

resource "aws_security_group" "alb" {
  name        = "web-alb"
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

resource "aws_lb" "web" {
  name               = "web"
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = data.aws_subnets.default.ids
}

resource "aws_lb_target_group" "api" {
  name        = "api"
  port        = 80
  protocol    = "HTTP"
  vpc_id      = data.aws_vpc.default.id
  target_type = "instance"

  health_check {
    path                = "/health"
    interval            = 5
    timeout             = 2
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  deregistration_delay = 1
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not here"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }

  condition {
    path_pattern {
      values = ["/api/*"]
    }
  }
}

resource "aws_ecs_cluster" "main" {
  name = "web"

  setting {
    name  = "containerInsights"
    value = "disabled"
  }
}

resource "aws_ecs_task_definition" "api" {
  family                   = "api"
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"

  container_definitions = jsonencode([{
    name         = "api"
    image        = var.image
    memory       = 64
    essential    = true
    environment  = [{ name = "APP_NAME", value = "api" }]
    portMappings = [{ containerPort = 8080, hostPort = 0, protocol = "tcp" }]
  }])
}

resource "aws_ecs_service" "api" {
  name            = "api"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 2
  launch_type     = "EC2"

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = "api"
    container_port   = 8080
  }

  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200
  wait_for_steady_state              = true

  depends_on = [aws_lb_listener_rule.api]
}

output "alb_dns_name" {
  value = aws_lb.web.dns_name
}

resource "aws_lb" "tcp" {
  name               = "tcp"
  internal           = true
  load_balancer_type = "network"
  subnets            = slice(data.aws_subnets.default.ids, 0, 2)
}

resource "aws_lb_target_group" "tcp" {
  name                 = "tcp"
  port                 = 7000
  protocol             = "TCP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 1

  health_check {
    protocol            = "TCP"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "tcp" {
  load_balancer_arn = aws_lb.tcp.arn
  port              = 7000
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tcp.arn
  }
}

resource "aws_ecs_cluster" "tcp" {
  name = "tcp"
}

resource "aws_ecs_cluster_capacity_providers" "tcp" {
  cluster_name       = aws_ecs_cluster.tcp.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

resource "aws_lb_target_group" "spare" {
  name        = "spare"
  port        = 7000
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_lb_target_group_attachment" "spare" {
  target_group_arn = aws_lb_target_group.spare.arn
  target_id        = "172.31.0.10"
  port             = 7000
}

resource "aws_ecs_task_definition" "echo" {
  family       = "echo"
  network_mode = "bridge"

  container_definitions = jsonencode([{
    name         = "echo"
    image        = var.image
    memory       = 64
    essential    = true
    environment  = [{ name = "PORT", value = "7000" }, { name = "APP_NAME", value = "echo" }]
    portMappings = [{ containerPort = 7000, hostPort = 0, protocol = "tcp" }]
  }])
}

resource "aws_ecs_service" "echo" {
  name            = "echo"
  cluster         = aws_ecs_cluster.tcp.id
  task_definition = aws_ecs_task_definition.echo.arn
  desired_count   = 1
  launch_type     = "EC2"

  load_balancer {
    target_group_arn = aws_lb_target_group.tcp.arn
    container_name   = "echo"
    container_port   = 7000
  }

  wait_for_steady_state = true

  depends_on = [aws_lb_listener.tcp]
}

output "nlb_dns_name" {
  value = aws_lb.tcp.dns_name
}
