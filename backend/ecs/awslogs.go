package ecs

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/backend/runtime"
)

// LogSink is the part of CloudWatch Logs that the awslogs log driver
// writes to; the logs backend satisfies it.
type LogSink interface {
	// OpenStream makes sure a stream exists, creating its group too when
	// createGroup is set, and returns the timestamp of its last event.
	OpenStream(ctx context.Context, s backend.Scope, group, stream string, createGroup bool) (int64, error)
	// Append stores events in a stream.
	Append(ctx context.Context, s backend.Scope, group, stream string, events []logtypes.InputLogEvent) (int, error)
}

// awslogs is where a container with the awslogs log driver, or FireLens
// with a CloudWatch output, sends its output, from its logConfiguration
// options.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
type awslogs struct {
	scope       backend.Scope
	group       string
	prefix      string    // awslogs-stream-prefix, or FireLens's log_stream_prefix
	name        string    // FireLens's log_stream_name: one stream, whatever the task
	createGroup bool      // awslogs-create-group, or FireLens's auto_create_group
	firelens    *firelens // set: each line is a FireLens record
}

// logsOf returns where a container of task k sends its output, or nil
// when berth does not ship it (it stays in Docker).
func logsOf(k taskRef, td types.TaskDefinition, cd types.ContainerDefinition, dockerName string) *awslogs {
	if l := awslogsOf(k.Scope, cd); l != nil {
		return l
	}
	return firelensOf(k, td, cd, dockerName)
}

// awslogsOf returns the awslogs destination of a container in scope s, or
// nil when it logs with another driver.
func awslogsOf(s backend.Scope, cd types.ContainerDefinition) *awslogs {
	lc := cd.LogConfiguration
	if lc == nil || lc.LogDriver != types.LogDriverAwslogs {
		return nil
	}
	if region := lc.Options["awslogs-region"]; region != "" {
		s.Region = region
	}
	return &awslogs{scope: s, group: lc.Options["awslogs-group"], prefix: lc.Options["awslogs-stream-prefix"],
		createGroup: strings.EqualFold(lc.Options["awslogs-create-group"], "true")}
}

// stream names the stream of one container: prefix/container-name/task-id
// with a prefix, else the Docker container id, as the driver names them.
// FireLens's CloudWatch plugins name it log_stream_name, or the prefix
// and the record's tag: container-name-firelens-task-id.
func (l *awslogs) stream(container, taskID, dockerID string) string {
	switch {
	case l.firelens != nil && l.name != "":
		return l.name
	case l.firelens != nil:
		return l.prefix + container + "-firelens-" + taskID
	case l.prefix == "":
		return dockerID
	}
	return l.prefix + "/" + container + "/" + taskID
}

// shipInterval is how often a container's new output is written to its
// stream; shipBatch is the most events written at once.
const (
	shipInterval = 250 * time.Millisecond
	shipBatch    = 1000
)

// openLogs opens the streams of the task's awslogs containers before they
// start, as the driver does; a group that does not exist (and is not to be
// created) fails the task with the error ECS reports. A FireLens output
// that cannot write loses its lines, and the task runs.
func (r *runner) openLogs(ctx context.Context) error {
	sink := r.a.b.Logs
	if sink == nil {
		return nil
	}
	taskID := resourceName(r.ref.arn, "task")
	for _, pc := range r.plan {
		if pc.logs == nil {
			continue
		}
		stream := pc.logs.stream(pc.name, taskID, r.ids[pc.name])
		last, err := sink.OpenStream(ctx, pc.logs.scope, pc.logs.group, stream, pc.logs.createGroup)
		if err != nil && pc.logs.firelens != nil {
			// The log router, not the task, fails to write: the task runs.
			r.log.Warn().Err(err).Str("container", pc.name).Msg("FireLens: the CloudWatch Logs output cannot write")
			continue
		}
		if err != nil {
			return failStart("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: %v : exit status 1", err)
		}
		since := time.Time{}
		if last > 0 { // resuming: what the stream has is not written again
			since = time.UnixMilli(last + 1)
		}
		r.unshipped[pc.name] = logStart{stream: stream, since: since}
	}
	return nil
}

// logStart is where the shipping of a container's output starts: its
// stream, and the time from which its output is not there yet.
type logStart struct {
	stream string
	since  time.Time
}

// shipLogs starts copying a started container's output to its stream,
// once per container, until the container stops or ctx ends.
func (r *runner) shipLogs(ctx context.Context, pc plannedContainer) {
	start, ok := r.unshipped[pc.name]
	if !ok {
		return
	}
	delete(r.unshipped, pc.name)
	id := r.ids[pc.name]
	r.shippers.Add(1)
	go func() {
		defer r.shippers.Done()
		if err := r.ship(ctx, pc.logs, start.stream, id, start.since); err != nil && ctx.Err() == nil {
			r.log.Warn().Err(err).Str("container", pc.name).Msg("shipping the container's logs")
		}
	}()
}

// ship copies one container's output from since on, one event per line
// stamped with the time the container wrote it, in batches. FireLens
// records say which stream a line came from, so each is read on its own.
func (r *runner) ship(ctx context.Context, dest *awslogs, stream, id string, since time.Time) error {
	var sources [][]runtime.Stream
	if dest.firelens != nil {
		sources = [][]runtime.Stream{{runtime.Stdout}, {runtime.Stderr}}
	} else {
		sources = [][]runtime.Stream{nil} // both together
	}
	lines := make(chan logtypes.InputLogEvent, shipBatch)
	var outs []io.ReadCloser
	defer func() {
		for _, out := range outs {
			out.Close()
		}
		for range lines { // the readers end once their outputs are closed
		}
	}()
	var readers sync.WaitGroup
	for _, streams := range sources {
		out, err := r.a.rt.Logs(ctx, id, since, streams...)
		if err != nil {
			return err
		}
		outs = append(outs, out)
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				stamp, msg, _ := strings.Cut(sc.Text(), " ")
				at, err := time.Parse(time.RFC3339Nano, stamp)
				if err != nil || msg == "" { // CloudWatch Logs takes no empty events
					continue
				}
				if dest.firelens != nil {
					msg = dest.firelens.message(id, streams[0], msg)
				}
				lines <- logtypes.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(msg)}
			}
		}()
	}
	go func() {
		readers.Wait()
		close(lines)
	}()
	tick := time.NewTicker(shipInterval)
	defer tick.Stop()
	var batch []logtypes.InputLogEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// PutLogEvents takes a batch in time order; two readers interleave.
		slices.SortStableFunc(batch, func(a, b logtypes.InputLogEvent) int { return cmp.Compare(*a.Timestamp, *b.Timestamp) })
		_, err := r.a.b.Logs.Append(ctx, dest.scope, dest.group, stream, batch)
		batch = nil
		if err != nil {
			return fmt.Errorf("writing to %s/%s: %w", dest.group, stream, err)
		}
		return nil
	}
	for {
		select {
		case e, ok := <-lines:
			if !ok {
				return flush()
			}
			if batch = append(batch, e); len(batch) >= shipBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// logsShipped waits, a bounded time, for the shippers of stopped
// containers to write their last output.
func (r *runner) logsShipped() {
	done := make(chan struct{})
	go func() {
		r.shippers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.log.Warn().Msg("the containers' last output was not all shipped")
	}
}
