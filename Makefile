# berth: the two set-up commands are `make run` and `make test`.
GO      ?= go
BIN     := bin/berth
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-unit test-integration guard fuzz bench bench-deps deps clean clean-containers

## run: build berth and serve on 127.0.0.1:4566
run: build
	./$(BIN) serve $(ARGS)

## build: compile the berth binary into bin/
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/berth

## test: everything CI runs: vet, unit and integration tests (four parallel tests at a time rather
## than GOMAXPROCS: the Terraform ones mostly wait out the provider's fixed pauses), the race
## detector over the packages with goroutines of their own (-short: the EC2 quota test already ran
## without it), short fuzzing (an execution count, not a duration: a duration races the fuzz
## coordinator's deadline, golang/go#75804). The race and fuzz phases, mostly compiling, run beside
## the tests, whose integration package mostly waits on Docker and Terraform; their output follows.
test: deps guard
	$(GO) vet ./...
	@side=$$(mktemp); \
	{ $(GO) test -count=1 -race -short ./sqlite ./lb/... ./backend/... && \
	  $(MAKE) --no-print-directory fuzz FUZZTIME=100000x; } >$$side 2>&1 & pid=$$!; \
	$(GO) test -count=1 -timeout 30m -parallel 4 ./...; tests=$$?; \
	wait $$pid; beside=$$?; \
	echo "--- the race detector and fuzzing:"; cat $$side; rm -f $$side; \
	[ $$tests -eq 0 ] && [ $$beside -eq 0 ]

test-unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

test-integration: deps
	$(GO) test -count=1 -timeout 20m ./integration

## guard: no tracked file over 1 MB (build outputs stay out of git) and go.mod/go.sum as
## `go mod tidy` leaves them
guard:
	@big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk '$$1 > 1048576'); \
	if [ -n "$$big" ]; then echo "tracked files over 1 MB:"; echo "$$big"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go mod tidy would change go.mod/go.sum (diff above)"; exit 1; }

FUZZTIME ?= 30s
## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./awsproto/json11
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./awsproto/query
	$(GO) test -run '^$$' -fuzz '^FuzzParseHeader$$' -fuzztime $(FUZZTIME) ./awsproto/sigv4
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./backend/ecs/clusterquery
	$(GO) test -run '^$$' -fuzz '^FuzzLeanParse$$' -fuzztime $(FUZZTIME) ./lb
	$(GO) test -run '^$$' -fuzz '^FuzzRoute53Decode$$' -fuzztime $(FUZZTIME) ./awsproto/restxml

## bench: control-plane benchmark with the aws-sdk-go-v2 clients, cold start, idle memory, task start,
## memory with 50 tasks, a service behind an ALB (CreateService to first request, a 2-task rollout), the
## data plane against nginx under wrk (both installed here when missing), the image registry, Parameter
## Store reads (GetParameter at concurrency 8), an API
## write while 50 HTTPS load balancers are published, GetLogEvents on growing streams, the store
## cache and RSS after 500k shipped log batches, and query decoding against the number of list
## members (RegisterTargets with 1,000 / 8,000 / 64,000 targets), the lean HTTP path with the load
## balancer metric counters on and off, and the CPU cost of one sample of the AWS/ECS utilization
## metrics (one-shot Docker stats of 10 containers), a day of 100 services' published metrics in the store,
## a fleet of three hosts (TestFleet's measured lines: CreateService to first 200 across hosts, a host's
## loss to its traffic served again), the p50 latency a Service Connect proxy hop adds to a call
## and EC2 placement at scale without a runtime (1,000 container instances, 10,000 tasks placed by RunTask),
## and berth's DNS server answering a published table of 1,000 names to 8 UDP clients (queries/s, p99)
bench: bench-deps
	$(GO) test -count=1 -run '^$$' -bench 'DataPlane' -benchtime 1x -timeout 10m ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ControlPlane' -benchtime 2000x -timeout 30m ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ColdStart' -benchtime 20x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'IdleMemory' -benchtime 1x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'RunTask' -benchtime 20x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ServiceSteady' -benchtime 5x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ServiceBehindALB' -benchtime 5x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'RunningMemory' -benchtime 1x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ECSMetricsSample' -benchtime 20x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'PlacementAtScale' -benchtime 1x -timeout 90m ./integration
	$(GO) test -count=1 -run '^$$' -bench 'Registry' -benchtime 10x -timeout 10m ./integration
	$(GO) test -count=1 -run '^$$' -bench 'SecretsManagerGetSecretValue' -benchtime 5000x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'ParameterStore' -benchtime 5000x ./integration
	$(GO) test -count=1 -run '^$$' -bench 'CloudWatchPutGet' -benchtime 2000x ./integration
	$(GO) test -count=1 -run '^TestFleet$$' -v -timeout 15m ./integration | grep -E 'measured:|^(ok|FAIL|---)'
	$(GO) test -count=1 -run '^$$' -bench 'MetricStorage24h' -benchtime 1x -timeout 20m ./backend/cloudwatch
	$(GO) test -count=1 -run '^$$' -bench 'CreateTagsWhilePublishing' -benchtime 300x ./backend/elbv2
	$(GO) test -count=1 -run '^$$' -bench 'GetLogEvents' -benchtime 200x ./backend/logs
	$(GO) test -count=1 -run '^$$' -bench 'LogShipping' -benchtime 500000x -timeout 30m ./backend/logs
	$(GO) test -count=1 -run '^$$' -bench 'DecodeRegisterTargets' ./awsproto/query
	$(GO) test -count=6 -run '^$$' -bench 'ALBForward|RequestCounters' ./lb
	$(GO) test -count=3 -run '^$$' -bench 'DNSQueries' -benchtime 200000x ./lb/dns
	$(GO) test -count=3 -run '^$$' -bench 'ServiceConnectHop' -benchtime 20000x ./lb

## deps: the clients the integration tests drive (the aws CLI, version 2 for `aws logs tail`, and
## boto3 with pytest: Debian's packages) and a running Docker Engine (started here when it is
## installed but not running; without one the tests fail, loudly)
deps:
	@{ aws --version 2>&1 | grep -q '^aws-cli/2' || [ -x /usr/bin/aws ]; } || { echo "installing the aws CLI v2 (Debian package awscli)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; }
	@python3 -c 'import boto3, pytest' 2>/dev/null || /usr/bin/python3 -c 'import boto3, pytest' 2>/dev/null || { \
		echo "installing boto3 and pytest (Debian packages python3-boto3, python3-pytest)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-boto3 python3-pytest >/dev/null; }
	@docker info >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
		echo "starting the Docker Engine"; pgrep -x dockerd >/dev/null || rm -f /var/run/docker.pid; \
		(dockerd >>/var/log/dockerd.log 2>&1 &); \
		for i in $$(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done; }

bench-deps:
	@command -v wrk >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 || { echo "installing wrk and nginx (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; }

clean:
	rm -rf bin

## clean-containers: remove every container and network any berth created
clean-containers: build
	./$(BIN) --clean-containers
