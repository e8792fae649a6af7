// Command berth runs the AWS ECS and ELBv2 APIs on this machine.
//
//	berth [serve] [flags]
//	berth hosts [--listen address]
//	berth ca [--listen address]
//
// An unknown command or flag, or an argument left over, is an error (exit
// status 2).
//
// hosts prints an /etc/hosts line for every load balancer of the berth
// that serves at --listen: its local address and DNS name. ca prints the
// certificate of its authority, which signs the certificates of HTTPS
// listeners and of ACM: trust it to trust them.
//
// Every flag but --version and --clean-containers has an environment
// variable (BERTH_<FLAG>, upper case, dashes as underscores) that sets its
// default; booleans take what strconv.ParseBool takes.
// A query-protocol request may carry more than net/url's default 10,000
// parameters: CloudWatch's PutMetricData takes 1,000 metrics of up to 30
// dimensions each in up to 1 MB
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
// The body bound (16 MiB) still bounds the count.
//
//go:debug urlmaxqueryparams=200001
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/acm"
	"berth/backend/appautoscaling"
	"berth/backend/autoscaling"
	"berth/backend/cloudwatch"
	"berth/backend/ec2"
	"berth/backend/ecr"
	"berth/backend/ecs"
	"berth/backend/elbv2"
	"berth/backend/iam"
	"berth/backend/logs"
	"berth/backend/pki"
	"berth/backend/route53"
	"berth/backend/runtime"
	"berth/backend/secretsmanager"
	"berth/backend/servicediscovery"
	"berth/backend/ssm"
	"berth/backend/sts"
	"berth/lb"
	"berth/server"
	"berth/sqlite"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	listen           string
	dataDir          string
	logLevel         string
	logFormat        string
	account          string
	region           string
	accounts         string
	secrets          string
	verifySignatures bool
	showVersion      bool
	cleanContainers  bool
	runtime          string
	lbNetwork        string
	taskEndpoint     string
	serviceConnect   string
	registryListen   string
	engines          engines
	dnsListen        string
	// cloudwatchMinute is how long CloudWatch's minute lasts: alarms
	// are evaluated once in it, over periods scaled by it.
	cloudwatchMinute time.Duration
	// show is the /_berth path whose answer a subcommand prints.
	show string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		var usage *usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command line berth does not understand: an unknown
// command or flag, a leftover argument, a bad environment value. berth
// exits with status 2 for it, as the flag package does.
type usageError struct{ problem string }

func (e *usageError) Error() string { return e.problem }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// commands are berth's subcommands and the flags each takes besides the
// environment: nil is every flag.
var commands = map[string][]string{
	"serve": nil,
	"hosts": {"listen"},
	"ca":    {"listen"},
}

// actions are flags that do something rather than set something: they
// have no environment variable.
var actions = []string{"version", "clean-containers"}

// parseFlags reads the command line args and the environment (env looks
// a variable up) into a config. A command (serve, hosts, ca; serve when
// there is none) may come before, after or between the flags; anything
// else left over, an unknown command or flag, or an environment value
// that does not parse is a *usageError. Usage goes to stderr.
func parseFlags(args []string, env func(string) (string, bool), stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("berth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: berth [serve] [flags]\n       berth hosts [--listen address]\n       berth ca [--listen address]\n\n"+
			"Every flag but --version and --clean-containers has an environment variable BERTH_<FLAG> (upper case,\n"+
			"dashes as underscores) that sets its default; booleans take what strconv.ParseBool takes.\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.listen, "listen", "127.0.0.1:4566", "address the API listens on")
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir(), "directory holding berth's state")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "auto", "log format: auto (console on a terminal, else json), console, json")
	fs.StringVar(&c.account, "account", "000000000000", "account of unsigned requests and unmapped access keys")
	fs.StringVar(&c.region, "region", "us-east-1", "region of unsigned requests")
	fs.StringVar(&c.accounts, "accounts", "", "access key to account map: AKID=123456789012,...")
	fs.StringVar(&c.secrets, "secrets", "", "access key to secret map for --verify-signatures: AKID=secret,...")
	fs.BoolVar(&c.verifySignatures, "verify-signatures", false, "refuse API calls and resets without a current SigV4 signature by a key of --secrets")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.runtime, "runtime", "docker", "what runs tasks: docker (the local Docker Engine, and the fleet's engines: --engine), or none (the API only: tasks are recorded, never run)")
	fs.StringVar(&c.lbNetwork, "lb-network", "127.10.0.0/16", "local addresses for load balancers, one each; none: serve the API only, no listeners")
	fs.StringVar(&c.registryListen, "registry-listen", "127.0.0.1:4567", "address of the ECR image registry (docker push and pull); none: no registry")
	fs.StringVar(&c.taskEndpoint, "task-endpoint", defaultTaskEndpoint, "address (and its network) of the task metadata and credentials endpoint containers reach; none: no endpoint")
	fs.StringVar(&c.serviceConnect, "service-connect-address", "169.254.171.1/24", "address (and its network) of the ECS Service Connect proxy that task containers reach; none: no Service Connect proxy")
	fs.DurationVar(&c.cloudwatchMinute, "cloudwatch-minute", time.Minute, "how long CloudWatch's minute lasts (at least 1s): alarms are evaluated and berth's own metrics published once a minute, a Period of P seconds lasts P/60 minutes; shorter for tests and demos")
	fs.StringVar(&c.dnsListen, "dns-listen", "auto", "address of berth's DNS server (UDP and TCP), which answers the load balancers' DNS names and forwards other questions to the host's resolvers; auto: port 53 of the --lb-network's last address but one; none: no DNS server")
	fs.Var(&c.engines, "engine", "a Docker Engine of another host that joins the fleet (repeat for more): name=N,url=tcp://ADDRESS:PORT[,zone=LETTER][,gateway=IP][,type=INSTANCE_TYPE][,attribute:NAME=VALUE...]; see the README")
	fs.BoolVar(&c.cleanContainers, "clean-containers", false, "remove every container and network any berth created, then exit")

	// The environment sets defaults: through each flag's own parser (so
	// a boolean takes 1, t, TRUE, ...), without marking the flag as given
	// on the command line.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(actions, f.Name) || envErr != nil {
			return
		}
		name := "BERTH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := env(name); ok {
			if err := f.Value.Set(v); err != nil {
				envErr = usagef("%s=%q: %v", name, v, err)
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					envErr = usagef("%s=%q is not a boolean: use 1, t, true, 0, f or false (any case)", name, v)
				}
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}

	command := ""
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, err
			}
			return c, &usageError{err.Error()} // the flag package has printed the usage
		}
		if rest = fs.Args(); len(rest) == 0 {
			break
		}
		if command != "" {
			fs.Usage()
			return c, usagef("unexpected argument %q after the %s command", rest[0], command)
		}
		if _, ok := commands[rest[0]]; !ok {
			fs.Usage()
			return c, usagef("unknown command %q", rest[0])
		}
		command, rest = rest[0], rest[1:]
	}
	if command == "" {
		command = "serve"
	}
	var misplaced []string
	if takes := commands[command]; takes != nil {
		fs.Visit(func(f *flag.Flag) {
			if !slices.Contains(takes, f.Name) {
				misplaced = append(misplaced, "--"+f.Name)
			}
		})
	}
	if len(misplaced) > 0 {
		fs.Usage()
		return c, usagef("the %s command does not take %s", command, strings.Join(misplaced, ", "))
	}
	if c.cloudwatchMinute < time.Second {
		return c, usagef("--cloudwatch-minute %v: must be at least 1s", c.cloudwatchMinute)
	}
	switch command {
	case "hosts":
		c.show = "/_berth/hosts"
	case "ca":
		c.show = "/_berth/ca.pem"
	}
	return c, nil
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "berth")
	}
	return "berth-data"
}

func pairs(s string) (map[string]string, error) {
	m := map[string]string{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=VALUE", p)
		}
		m[k] = v
	}
	return m, nil
}

func logger(c config) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.logLevel)
	if err != nil {
		return zerolog.Logger{}, err
	}
	format := c.logFormat
	if format == "auto" {
		format = "json"
		if isatty.IsTerminal(os.Stderr.Fd()) {
			format = "console"
		}
	}
	var log zerolog.Logger
	switch format {
	case "json":
		log = zerolog.New(os.Stderr)
	case "console":
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly})
	default:
		return log, fmt.Errorf("unknown log format %q", format)
	}
	return log.Level(level).With().Timestamp().Logger(), nil
}

func run(args []string) error {
	c, err := parseFlags(args, os.LookupEnv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if c.showVersion {
		fmt.Println("berth", version)
		return nil
	}
	if c.show != "" {
		return show(c.listen, c.show)
	}
	log, err := logger(c)
	if err != nil {
		return err
	}
	accounts, err := pairs(c.accounts)
	if err != nil {
		return fmt.Errorf("--accounts: %w", err)
	}
	secrets, err := pairs(c.secrets)
	if err != nil {
		return fmt.Errorf("--secrets: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.cleanContainers {
		return cleanContainers(ctx, log)
	}

	store, err := sqlite.Open(filepath.Join(c.dataDir, "berth.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	env := backend.Env{Clock: time.Now, IDs: backend.RandomIDs{}}
	instance, err := backend.Instance(ctx, store, env.IDs)
	if err != nil {
		return err
	}
	var docker *runtime.Docker
	var host ecs.Host // none: tasks are placed nowhere
	switch c.runtime {
	case "docker":
		if docker, err = runtime.NewDocker(instance); err != nil {
			return err
		}
		defer docker.Close()
		host = ecs.LocalHost(instance)
		if h, err := docker.Host(ctx); err != nil {
			log.Warn().Err(err).Msg("the Docker Engine does not answer: tasks will fail to start until it does")
		} else {
			host.CPUs, host.MemoryMiB = h.CPUs, h.MemoryBytes>>20
		}
		if gateway, err := docker.BridgeGateway(ctx); err == nil {
			host.TaskAddress = gateway
		}
	case "none":
		if len(c.engines) > 0 {
			return usagef("--engine needs --runtime docker: the fleet's hosts run tasks")
		}
	default:
		return fmt.Errorf("--runtime: unknown runtime %q", c.runtime)
	}
	fleet, err := joinEngines(ctx, store, c.dataDir, instance, c.engines, env.Clock())
	if err != nil {
		return fmt.Errorf("--engine: %w", err)
	}
	var hosts []ecs.Host
	if docker != nil {
		hosts = append(hosts, host)
	}
	for _, j := range fleet {
		defer j.docker.Close()
		hosts = append(hosts, j.host)
		log.Info().Str("engine", j.name).Str("url", j.url).Str("dockerd_flags", j.dockerdFlags()).Msg("the fleet's host joins when its engine answers")
	}
	ca, err := pki.Load(ctx, store, env.Clock())
	if err != nil {
		return err
	}
	if !ca.Constrained() {
		log.Warn().Str("data_dir", c.dataDir).Msg("the local CA of this data directory, drawn by an older berth, may sign any name: if you trust it system-wide, untrust it and start berth with a new data directory")
	}
	ecsBackend := ecs.New(store, env, hosts...)
	if err := ecsBackend.JoinFleet(ctx); err != nil {
		return err
	}
	elbBackend := elbv2.New(store, env, ca)
	logsBackend, ec2Backend := logs.New(store, env), ec2.New(store, env)
	cwBackend := cloudwatch.New(store, env)
	stsBackend := sts.New(store, env)
	asBackend := autoscaling.New(store, env, ec2Backend, ec2Backend)
	// Target tracking keeps its alarms in CloudWatch, whose alarms run
	// the policies they name.
	aasBackend := appautoscaling.New(store, env, ecsBackend, cwBackend, log.With().Str("component", "application-autoscaling").Logger())
	cwBackend.SetAlarmActions(aasBackend)
	iamBackend := iam.New(store, env, stsBackend)
	ssmBackend, smBackend := ssm.New(store, env), secretsmanager.New(store, env)
	secret, err := backend.Secret(ctx, store, env.IDs)
	if err != nil {
		return err
	}
	tokenKey := sha256.Sum256(append([]byte("berth ECR tokens\x00"), secret...))
	if err != nil {
		return err
	}
	ecrBackend, err := ecr.New(store, env, filepath.Join(c.dataDir, "registry"), tokenKey[:])
	if err != nil {
		return err
	}
	// Collectors: abandoned uploads, unreferenced blobs, expired log events,
	// secrets past their recovery window.
	collectCtx, stopCollecting := context.WithCancel(context.Background())
	var collectors sync.WaitGroup
	collectors.Go(func() { ecrBackend.Run(collectCtx) })
	collectors.Go(func() { logsBackend.Run(collectCtx) })
	collectors.Go(func() { cwBackend.Run(collectCtx) })
	collectors.Go(func() { cwBackend.RunAlarms(collectCtx, c.cloudwatchMinute) })
	collectors.Go(func() { smBackend.Run(collectCtx) })
	collectors.Go(func() { aasBackend.Run(collectCtx) }) // scheduled actions
	defer func() { stopCollecting(); collectors.Wait() }()
	if c.registryListen != "none" {
		ln, err := net.Listen("tcp", c.registryListen)
		if err != nil {
			return fmt.Errorf("--registry-listen: %w", err)
		}
		// No ReadTimeout here: docker push streams a layer as it
		// compresses it, which for a large layer may take minutes.
		registry := &http.Server{Handler: ecrBackend.Registry(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: apiIdleTimeout}
		go registry.Serve(ln)
		defer registry.Close()
		ecrBackend.Host = ln.Addr().String()
		ecsBackend.Images = ecrBackend
	}
	elbBackend.Network, elbBackend.ContainerInstances, ec2Backend.Tasks, ec2Backend.Hosts = ec2Backend, ecsBackend, ecsBackend, ecsBackend
	ec2Backend.Left = func(ctx context.Context, ids []string) {
		// Auto Scaling's health check notices a group's instance stopped
		// or gone a moment after EC2 changed it, not within the call.
		go asBackend.InstancesLeft(context.WithoutCancel(ctx), ids)
	}
	ecsBackend.LoadBalancers, ecsBackend.Logs, ecsBackend.Roles, ecsBackend.Network = elbBackend, logsBackend, iamBackend, ec2Backend
	ecsBackend.AutoScaling, ecsBackend.Parameters, ecsBackend.Secrets = asBackend, ssmBackend, smBackend
	sdBackend := servicediscovery.New(store, env, ec2Backend)
	ecsBackend.Alarms, ecsBackend.AlarmMinute = cwBackend, c.cloudwatchMinute
	ecsBackend.Discovery, ecsBackend.ServiceConnect = sdBackend, sdBackend
	var agents []*ecs.Agent
	reset := func(ctx context.Context) error {
		if err := store.Wipe(ctx, backend.KindInstance, pki.Kind); err != nil {
			return err
		}
		elbBackend.Reset()
		if err := ecrBackend.Reset(); err != nil {
			return err
		}
		ecsBackend.Wake()
		var errs []error
		for _, a := range agents {
			errs = append(errs, a.Reset(ctx))
		}
		return errors.Join(errs...)
	}
	dnsListen, err := dnsAddress(c.dnsListen, c.lbNetwork)
	if err != nil {
		return err
	}
	// The DNS server answers on dnsListen, for the host, and on the task
	// endpoint's address, as tasks' resolver.
	var taskDNS string
	if prefix, err := netip.ParsePrefix(c.taskEndpoint); err == nil && docker != nil {
		taskDNS = netip.AddrPortFrom(prefix.Addr(), 53).String()
	}
	var dnsServer *dnsListeners
	var dnsBound string
	if dnsListen != "" {
		dnsServer = newDNS([]string{dnsListen, taskDNS}, log.With().Str("component", "dns").Logger())
		defer dnsServer.stop()
		dnsBound = dnsServer.serve(dnsListen, "no DNS server for the host: the load balancers' names resolve only through /_berth/hosts")
	}
	r53Backend := route53.New(store, env, ec2Backend, 0)
	if dnsServer != nil {
		defer dnsServer.publishZones(sdBackend, r53Backend, ecsBackend)()
	}
	srv := server.New(server.Config{
		DefaultAccount: c.account, DefaultRegion: c.region,
		Accounts: accounts, Secrets: secrets, VerifySignatures: c.verifySignatures, Clock: env.Clock, Instance: instance, Registry: ecrBackend.Host, DNS: dnsBound,
	}, server.Backends{
		ECR: ecrBackend,
		ECS: ecsBackend, ELBv2: elbBackend, ACM: acm.New(store, env, ca), EC2: ec2Backend, AutoScaling: asBackend, AppAutoScaling: aasBackend, IAM: iamBackend, Logs: logsBackend, CloudWatch: cwBackend, STS: stsBackend, CA: ca.PEM(), Reset: reset,
		SSM: ssmBackend, SecretsManager: smBackend,
		ServiceDiscovery: sdBackend,
		Route53:          r53Backend,
	}, env.IDs, log)
	var lbNetwork netip.Prefix
	if c.lbNetwork != "none" {
		network, err := netip.ParsePrefix(c.lbNetwork)
		if err != nil {
			return fmt.Errorf("--lb-network: %w", err)
		}
		lbNetwork = network
		dataPlane := lb.New(log.With().Str("component", "lb").Logger(), env.Clock, func(r lb.HealthReport) {
			elbBackend.Report(r)
			ecsBackend.Wake() // the scheduler counts tasks healthy by their targets
		})
		publishCtx, stopPublishing := context.WithCancel(context.Background())
		published := make(chan struct{})
		go func() {
			defer close(published)
			elbBackend.Publish(publishCtx, dataPlane, elbv2.Placement{Network: network, Resolve: ecsBackend.InstanceAddress, Names: publishNames(dnsServer)}, log.With().Str("component", "lb").Logger())
		}()
		defer func() { stopPublishing(); <-published; dataPlane.Shutdown(lbDrainOnExit) }()
		// What the data plane counts goes to CloudWatch every interval,
		// and once more when berth stops, before the store closes.
		metricsCtx, stopMetrics := context.WithCancel(context.Background())
		metricsDone := make(chan struct{})
		go func() {
			defer close(metricsDone)
			(&elbv2.MetricsPublisher{Source: dataPlane, Sink: cwBackend, Clock: env.Clock, Interval: c.cloudwatchMinute,
				Log: log.With().Str("component", "lb-metrics").Logger()}).Run(metricsCtx)
		}()
		defer func() { stopMetrics(); <-metricsDone }()
	}
	if docker == nil {
		// Without a runtime nothing runs tasks: tasks asked to stop are
		// recorded stopped at once.
		unrunCtx, stopUnrun := context.WithCancel(context.Background())
		unrunDone := make(chan struct{})
		go func() {
			defer close(unrunDone)
			ecsBackend.StopUnrun(unrunCtx, time.Minute, log.With().Str("component", "agent").Logger())
		}()
		defer func() { stopUnrun(); <-unrunDone }()
	}
	if docker != nil {
		agent := ecs.NewAgent(ecsBackend, docker, host, secret, log.With().Str("component", "agent").Logger())
		agents = append(agents, agent)
		if lbNetwork.IsValid() && !lbNetwork.Addr().IsLoopback() {
			// Containers reach the host's non-loopback addresses, so the
			// load balancers' names can point them there.
			agent.LoadBalancerHosts = func(ctx context.Context) []string {
				hosts, _ := elbBackend.Hosts(ctx)
				var out []string
				for _, h := range hosts {
					out = append(out, h.DNSName+":"+h.Address)
				}
				return out
			}
		}
		agent.Credentials = stsBackend
		if c.serviceConnect != "none" {
			address, stopProxy, err := serveServiceConnect(ctx, docker, ecsBackend, c.serviceConnect, env.Clock, log.With().Str("component", "service-connect").Logger())
			if err != nil {
				log.Warn().Err(err).Msg("no Service Connect proxy: tasks of Service Connect services cannot reach their aliases")
			} else {
				defer stopProxy()
				agent.ServiceConnectAddress = address
				log.Info().Str("service_connect", address).Msg("serving the Service Connect proxy")
			}
		}
		if c.taskEndpoint != "none" {
			ln, base, err := listenTaskEndpoint(ctx, docker, c.taskEndpoint)
			if err != nil {
				log.Warn().Err(err).Msg("no task endpoint: code in tasks gets no metadata, credentials or API endpoint")
			} else {
				endpoint := &http.Server{Handler: agent.Endpoint(srv), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: apiReadTimeout, IdleTimeout: apiIdleTimeout}
				go endpoint.Serve(ln)
				defer endpoint.Close()
				agent.TaskEndpoint = base
				log.Info().Str("task_endpoint", base).Msg("serving tasks their metadata and credentials")
				if dnsServer != nil && dnsServer.serve(taskDNS, "tasks keep Docker's resolvers: Cloud Map and Route 53 names do not resolve in them") != "" {
					agent.Resolver = taskDNS
				}
			}
		}
		gateway := gatewayServices{api: srv, registryHost: ecrBackend.Host, credentials: stsBackend, secret: secret, log: log}
		if c.registryListen != "none" {
			gateway.registry = ecrBackend.Registry()
		}
		for _, j := range fleet {
			agent, closeGateway := fleetAgent(ecsBackend, j, &gateway)
			defer closeGateway()
			agents = append(agents, agent)
		}
		agentCtx, stopAgent := context.WithCancel(context.Background())
		var running sync.WaitGroup
		for _, a := range agents {
			running.Go(func() { a.Run(agentCtx) })
		}
		defer func() { stopAgent(); running.Wait() }()
		// The AWS/ECS utilization metrics, from the containers the agent
		// runs: with --runtime none there are none, and nothing is
		// published.
		metrics := ecs.NewMetrics(ecsBackend, docker, instance, cwBackend, c.cloudwatchMinute, log.With().Str("component", "ecs-metrics").Logger())
		metricsDone := make(chan struct{})
		go func() { defer close(metricsDone); metrics.Run(agentCtx) }()
		defer func() { stopAgent(); <-metricsDone }()
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	httpServer := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: apiReadTimeout, IdleTimeout: apiIdleTimeout}
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	go asBackend.Resume(context.WithoutCancel(ctx))
	log.Info().Str("listen", ln.Addr().String()).Str("registry", ecrBackend.Host).Str("dns", dnsBound).Str("data_dir", c.dataDir).Str("version", version).Str("instance", instance).Msg("berth is serving")
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() && !c.verifySignatures {
		log.Warn().Str("listen", ln.Addr().String()).Msg("the API listens beyond loopback without --verify-signatures: whoever reaches it can run containers on this host")
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal ends berth at once, draining or not
	log.Info().Msg("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdown)
}

// apiReadTimeout bounds reading one API request, headers and body (at
// most 16 MiB, which an SDK sends in well under a second on the networks
// berth serves), so that a body trickled in holds no connection;
// apiIdleTimeout closes keep-alive connections left idle, longer than the
// SDKs keep theirs idle (90 s in aws-sdk-go-v2 and Go's transport).
const (
	apiReadTimeout = 60 * time.Second
	apiIdleTimeout = 120 * time.Second
)

// lbDrainOnExit bounds how long the load balancers' requests in flight
// may go on when berth stops (each listener drains for the longest
// deregistration delay of its target groups, at most this long): 30 s is
// the stop timeout ECS gives a container by default between SIGTERM and
// SIGKILL, a budget that supervisors commonly allow.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html (stopTimeout)
const lbDrainOnExit = 30 * time.Second

// defaultTaskEndpoint is the task endpoint's address and network: the ECS
// agent's address in AWS.
const defaultTaskEndpoint = "169.254.170.2/24"

// listenTaskEndpoint listens where task containers reach berth: on the
// address of gateway (in AWS the ECS agent's, 169.254.170.2), made the
// host's by a Docker network, at port 80 when it is free (another berth
// may have it) or else a port the system picks. It returns the base URL.
func listenTaskEndpoint(ctx context.Context, docker *runtime.Docker, gateway string) (net.Listener, string, error) {
	prefix, err := netip.ParsePrefix(gateway)
	if err != nil {
		return nil, "", fmt.Errorf("--task-endpoint: %w", err)
	}
	// The default address's network keeps its first name; another
	// address (a second berth's) has a network of its own.
	name := "berth-task-endpoint"
	if gateway != defaultTaskEndpoint {
		name += "-" + prefix.Addr().String()
	}
	if err := docker.HostAddress(ctx, name, prefix); err != nil {
		return nil, "", err
	}
	host := prefix.Addr().String()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "80"))
	if err != nil {
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return nil, "", err
	}
	base := "http://" + host
	if port := ln.Addr().(*net.TCPAddr).Port; port != 80 {
		base += ":" + strconv.Itoa(port)
	}
	return ln, base, nil
}

// serveServiceConnect runs the Service Connect proxy: a data plane of its
// own whose one load balancer listens on the address of prefix, made the
// host's by a Docker network as the task endpoint's is, and serves what
// the ECS backend publishes. It returns the address and what stops it.
func serveServiceConnect(ctx context.Context, docker *runtime.Docker, b *ecs.Backend, prefix string, clock func() time.Time, log zerolog.Logger) (string, func(), error) {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return "", nil, fmt.Errorf("--service-connect-address: %w", err)
	}
	// The network is named by its address, so that berths with proxies
	// on different addresses share a host.
	if err := docker.HostAddress(ctx, "berth-service-connect-"+strings.ReplaceAll(p.Addr().String(), ".", "-"), p); err != nil {
		return "", nil, err
	}
	address := p.Addr().String()
	proxy := lb.New(log, clock, nil)
	publishCtx, stopPublishing := context.WithCancel(context.Background())
	published := make(chan struct{})
	go func() {
		defer close(published)
		b.PublishServiceConnect(publishCtx, proxy, address, log)
	}()
	return address, func() { stopPublishing(); <-published; proxy.Shutdown(lbDrainOnExit) }, nil
}

// show copies the answer of the berth at listen to a GET of path to stdout.
func show(listen, path string) error {
	resp, err := http.Get("http://" + listen + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("berth at %s answered %s", listen, resp.Status)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}

// cleanContainers removes what every berth instance created on the Docker
// Engine: containers and networks with berth's labels, nothing else.
func cleanContainers(ctx context.Context, log zerolog.Logger) error {
	docker, err := runtime.NewDocker("")
	if err != nil {
		return err
	}
	defer docker.Close()
	n, err := docker.RemoveAll(ctx)
	log.Info().Int("containers", n).Msg("removed berth's containers and networks")
	return err
}
