# A TCP service behind a Network Load Balancer: an ECS service of the EC2
# launch type whose container listens on a TCP port, a TCP target group
# with a TCP health check, and a TCP listener; the target group is
# attached to the service by ECS. Also: the cluster's capacity providers,
# and a spare IP target group with a target attached by Terraform.

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

output "dns_name" {
  value = aws_lb.tcp.dns_name
}
