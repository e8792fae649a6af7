package ecs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	stsapi "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/moby/moby/api/types/container"

	"berth/backend"
	"berth/backend/runtime"
)

// The task endpoint is what the ECS agent serves to code inside tasks at
// 169.254.170.2: the task metadata endpoint (v3 and v4) and the
// credentials of the task role. berth serves it with its own API, so that
// an SDK inside a task finds credentials, a region and an endpoint.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html

// RoleSessions issues temporary credentials for a role: the STS backend.
type RoleSessions interface {
	AssumeRole(context.Context, *stsapi.AssumeRoleInput) (*stsapi.AssumeRoleOutput, error)
}

// ecsEndpointHost is the address of the ECS agent's endpoint in AWS. SDKs
// take credentials from a full URI only on it or on a loopback address.
const ecsEndpointHost = "169.254.170.2"

// roleCredentials are one task's task-role credentials, reissued when
// less than an hour of them is left. Task role credentials in ECS last
// about six hours.
type roleCredentials struct {
	mu      sync.Mutex
	current *ststypes.Credentials
}

const (
	roleSessionLifetime = 6 * time.Hour
	roleSessionRenewal  = time.Hour
)

// taskEnvironment is what the agent adds to a container's environment
// where the task definition leaves it unset: the region and launch type,
// and with a task endpoint the metadata URIs, the task role's credentials
// URI and berth's API as the SDKs' endpoint.
func (a *Agent) taskEnvironment(k taskRef, t types.Task, td types.TaskDefinition, containerName string) []string {
	env := []string{
		"AWS_REGION=" + k.Region, "AWS_DEFAULT_REGION=" + k.Region,
		"AWS_EXECUTION_ENV=AWS_ECS_" + string(t.LaunchType),
	}
	base := a.TaskEndpoint
	if base == "" {
		return env
	}
	token := taskID(k.arn) + "-" + containerName
	env = append(env,
		"AWS_ENDPOINT_URL="+base,
		"ECS_CONTAINER_METADATA_URI="+base+"/v3/"+token,
		"ECS_CONTAINER_METADATA_URI_V4="+base+"/v4/"+token,
	)
	if taskRole(t, td) != "" {
		path := "/v2/credentials/" + a.credentialsID(k.arn)
		if base == "http://"+ecsEndpointHost {
			env = append(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="+path)
		} else {
			env = append(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+base+path)
		}
	}
	return env
}

// withEnvironment adds the variables of extra that env does not set.
func withEnvironment(env, extra []string) []string {
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") }) {
			env = append(env, kv)
		}
	}
	return env
}

func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// taskRole is the role of the task's own code: the override's, or the
// task definition's.
func taskRole(t types.Task, td types.TaskDefinition) string {
	if o := t.Overrides; o != nil && aws.ToString(o.TaskRoleArn) != "" {
		return *o.TaskRoleArn
	}
	return aws.ToString(td.TaskRoleArn)
}

// credentialsID is the id in a task's credentials URI, which is all the
// endpoint asks of a caller: keyed by the instance's secret, so that it
// cannot be worked out from the task ARN and the instance id (which
// /_berth/health tells anyone), and the same after a restart, when the
// containers keep the URI they were created with.
func (a *Agent) credentialsID(taskArn string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(taskArn))
	return backend.UUID(hex.EncodeToString(mac.Sum(nil)[:16]))
}

// Endpoint is the handler of the task endpoint; what it does not serve,
// api does.
func (a *Agent) Endpoint(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /v2/credentials/{id}", a.serveCredentials)
	for _, v := range []string{"v3", "v4"} {
		mux.HandleFunc("GET /"+v+"/{token}", a.serveMetadata(false, false))
		mux.HandleFunc("GET /"+v+"/{token}/task", a.serveMetadata(true, false))
		mux.HandleFunc("GET /"+v+"/{token}/stats", a.serveMetadata(false, true))
		mux.HandleFunc("GET /"+v+"/{token}/task/stats", a.serveMetadata(true, true))
	}
	return mux
}

// endpointError answers as the ECS agent does: a JSON code and message.
func endpointError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message, "HTTPErrorCode": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// runnerOf returns the runner of the task whose ARN match accepts.
func (a *Agent) runnerOf(match func(arn string) bool) *runner {
	a.mu.Lock()
	defer a.mu.Unlock()
	for arn, r := range a.runners {
		if match(arn) {
			return r
		}
	}
	return nil
}

// serveCredentials answers a task's credentials URI with its task role's
// temporary credentials.
func (a *Agent) serveCredentials(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("id")
	r := a.runnerOf(func(arn string) bool { return a.credentialsID(arn) == id })
	if r == nil || a.Credentials == nil {
		endpointError(w, http.StatusBadRequest, "InvalidIdInRequest", "CredentialsV2Request: Credentials not found")
		return
	}
	t, td, err := r.load(req.Context())
	if err != nil {
		endpointError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	role := taskRole(t, td)
	if role == "" {
		endpointError(w, http.StatusBadRequest, "InvalidIdInRequest", "CredentialsV2Request: Credentials not found")
		return
	}
	creds, err := r.roleCredentials(req.Context(), role)
	if err != nil {
		endpointError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"RoleArn": role, "AccessKeyId": aws.ToString(creds.AccessKeyId), "SecretAccessKey": aws.ToString(creds.SecretAccessKey),
		"Token": aws.ToString(creds.SessionToken), "Expiration": creds.Expiration.UTC().Format(time.RFC3339),
	})
}

// roleCredentials returns the task's credentials for role, issuing new
// ones when they are missing or about to expire.
func (r *runner) roleCredentials(ctx context.Context, role string) (ststypes.Credentials, error) {
	c := &r.credentials
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil || c.current.Expiration.Sub(r.a.b.env.Clock()) < roleSessionRenewal {
		out, err := r.a.Credentials.AssumeRole(ctx, &stsapi.AssumeRoleInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String(taskID(r.ref.arn)),
			DurationSeconds: aws.Int32(int32(roleSessionLifetime / time.Second)),
		})
		if err != nil {
			return ststypes.Credentials{}, err
		}
		c.current = out.Credentials
	}
	return *c.current, nil
}

// serveMetadata answers the metadata URIs: the container's document, or
// the task's with task, and with stats the resource usage instead.
func (a *Agent) serveMetadata(task, stats bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id, name, _ := strings.Cut(req.PathValue("token"), "-")
		r := a.runnerOf(func(arn string) bool { return taskID(arn) == id })
		if r == nil {
			endpointError(w, http.StatusNotFound, "TaskNotFound", "task metadata: no running task "+id)
			return
		}
		meta, err := r.metadata(req.Context())
		if err != nil {
			endpointError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		i := slices.IndexFunc(meta.Containers, func(c containerMetadata) bool { return c.Name == name })
		if i < 0 {
			endpointError(w, http.StatusNotFound, "ContainerNotFound", "task metadata: no container "+name)
			return
		}
		switch {
		case stats && task:
			all := map[string]json.RawMessage{}
			for _, c := range meta.Containers {
				all[c.DockerId] = r.stats(req.Context(), c.DockerId)
			}
			writeJSON(w, http.StatusOK, all)
		case stats:
			writeJSON(w, http.StatusOK, r.stats(req.Context(), meta.Containers[i].DockerId))
		case task:
			writeJSON(w, http.StatusOK, meta)
		default:
			writeJSON(w, http.StatusOK, meta.Containers[i])
		}
	}
}

// stats is a container's resource usage, or null when it has none.
func (r *runner) stats(ctx context.Context, id string) json.RawMessage {
	if id == "" {
		return json.RawMessage("null")
	}
	doc, err := r.a.rt.Stats(ctx, id)
	if err != nil {
		return json.RawMessage("null")
	}
	return doc
}

// taskMetadata is the task document of the metadata endpoint.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-response.html
type taskMetadata struct {
	Cluster          string
	TaskARN          string
	Family           string
	Revision         string
	ServiceName      string `json:",omitempty"`
	DesiredStatus    string
	KnownStatus      string
	Limits           *limits    `json:",omitempty"`
	PullStartedAt    *time.Time `json:",omitempty"`
	PullStoppedAt    *time.Time `json:",omitempty"`
	AvailabilityZone string     `json:",omitempty"`
	LaunchType       string
	Containers       []containerMetadata
}

// containerMetadata is the container document of the metadata endpoint.
type containerMetadata struct {
	DockerId      string
	Name          string
	DockerName    string
	Image         string
	ImageID       string
	Ports         []portMetadata `json:",omitempty"`
	Labels        map[string]string
	DesiredStatus string
	KnownStatus   string
	ExitCode      *int32 `json:",omitempty"`
	Limits        limits
	CreatedAt     *time.Time `json:",omitempty"`
	StartedAt     *time.Time `json:",omitempty"`
	Type          string
	Health        *healthMetadata   `json:",omitempty"`
	LogDriver     string            `json:",omitempty"`
	LogOptions    map[string]string `json:",omitempty"`
	ContainerARN  string
	Networks      []networkMetadata
}

type limits struct {
	CPU    float64 `json:",omitempty"`
	Memory int64   `json:",omitempty"`
}

type portMetadata struct {
	ContainerPort int32
	Protocol      string
	HostPort      int32  `json:",omitempty"`
	HostIp        string `json:",omitempty"`
}

type healthMetadata struct {
	Status string `json:"status"`
}

type networkMetadata struct {
	NetworkMode    string
	IPv4Addresses  []string `json:",omitempty"`
	MACAddress     string   `json:",omitempty"`
	PrivateDNSName string   `json:",omitempty"`
}

// metadata builds the task's metadata documents from the stored task, its
// definition and its containers as Docker reports them.
func (r *runner) metadata(ctx context.Context) (taskMetadata, error) {
	t, td, err := r.load(ctx)
	if err != nil {
		return taskMetadata{}, err
	}
	m := taskMetadata{
		Cluster: aws.ToString(t.ClusterArn), TaskARN: r.ref.arn, Family: aws.ToString(td.Family),
		Revision: strconv.Itoa(int(td.Revision)), DesiredStatus: aws.ToString(t.DesiredStatus), KnownStatus: aws.ToString(t.LastStatus),
		PullStartedAt: t.PullStartedAt, PullStoppedAt: t.PullStoppedAt, AvailabilityZone: aws.ToString(t.AvailabilityZone),
		LaunchType: string(t.LaunchType), Containers: []containerMetadata{},
	}
	if service := serviceOf(r.ref.Scope, taskKeys{Group: t.Group, StartedBy: t.StartedBy, ClusterArn: t.ClusterArn}); service != "" {
		m.ServiceName = service[strings.LastIndex(service, "/")+1:]
	}
	cpu, _ := strconv.ParseFloat(aws.ToString(td.Cpu), 64)
	memory, _ := strconv.ParseInt(aws.ToString(td.Memory), 10, 64)
	if cpu > 0 || memory > 0 {
		m.Limits = &limits{CPU: cpu / 1024, Memory: memory}
	}
	for _, c := range t.Containers {
		name := aws.ToString(c.Name)
		i := slices.IndexFunc(td.ContainerDefinitions, func(cd types.ContainerDefinition) bool { return aws.ToString(cd.Name) == name })
		if i < 0 {
			continue
		}
		cd := td.ContainerDefinitions[i]
		cm := containerMetadata{
			DockerId: aws.ToString(c.RuntimeId), Name: name, DockerName: dockerName(td, name, taskID(r.ref.arn)),
			Image: aws.ToString(cd.Image), Labels: map[string]string{}, DesiredStatus: aws.ToString(t.DesiredStatus),
			KnownStatus: aws.ToString(c.LastStatus), ExitCode: c.ExitCode, Type: "NORMAL", ContainerARN: aws.ToString(c.ContainerArn),
			Limits: limits{CPU: float64(cd.Cpu), Memory: int64(aws.ToInt32(cd.Memory))}, Networks: []networkMetadata{},
		}
		if cd.HealthCheck != nil {
			cm.Health = &healthMetadata{Status: string(c.HealthStatus)}
		}
		if lc := cd.LogConfiguration; lc != nil {
			cm.LogDriver, cm.LogOptions = string(lc.LogDriver), lc.Options
		}
		for _, b := range c.NetworkBindings {
			cm.Ports = append(cm.Ports, portMetadata{ContainerPort: aws.ToInt32(b.ContainerPort), Protocol: string(b.Protocol),
				HostPort: aws.ToInt32(b.HostPort), HostIp: aws.ToString(b.BindIP)})
		}
		var st container.InspectResponse
		if cm.DockerId != "" {
			st, _ = r.a.rt.Inspect(ctx, cm.DockerId)
		}
		cm.ImageID = st.Image
		if st.Config != nil {
			for k, v := range st.Config.Labels {
				if !strings.HasPrefix(k, runtime.LabelPrefix) {
					cm.Labels[k] = v
				}
			}
		}
		cm.CreatedAt = dockerTime(st.Created)
		if st.State != nil {
			cm.StartedAt = dockerTime(st.State.StartedAt)
		}
		cm.Networks = networksOf(td.NetworkMode, c, st)
		m.Containers = append(m.Containers, cm)
	}
	return m, nil
}

// dockerTime parses a time Docker reports, nil when it has none.
func dockerTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return nil
	}
	return &t
}

// networksOf reports a container's network as the metadata endpoint does:
// the task's interface in awsvpc mode, the bridge's address in bridge mode.
func networksOf(mode types.NetworkMode, c types.Container, st container.InspectResponse) []networkMetadata {
	switch mode {
	case types.NetworkModeAwsvpc:
		var out []networkMetadata
		for _, ni := range c.NetworkInterfaces {
			ip := aws.ToString(ni.PrivateIpv4Address)
			out = append(out, networkMetadata{NetworkMode: "awsvpc", IPv4Addresses: []string{ip},
				PrivateDNSName: privateDNSName(ip)})
		}
		return backend.OrEmpty(out)
	case types.NetworkModeHost, types.NetworkModeNone:
		return []networkMetadata{{NetworkMode: string(mode)}}
	}
	n := networkMetadata{NetworkMode: "bridge"}
	if st.NetworkSettings != nil {
		if ep := st.NetworkSettings.Networks["bridge"]; ep != nil && ep.IPAddress.IsValid() {
			n.IPv4Addresses, n.MACAddress = []string{ep.IPAddress.String()}, ep.MacAddress.String()
		}
	}
	return []networkMetadata{n}
}
