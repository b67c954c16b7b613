package swarm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// registryTimeout bounds the question to the registry about an image that could not be pulled. The
// daemon's own dial timeout is 30 s; an answer that takes longer says the registry is unreachable.
const registryTimeout = 20 * time.Second

// noSuchImage starts the error of a task whose image the node does not have. Swarm's executor only
// logs a failed pull and then creates the container anyway, so this create error (moby
// daemon/images ErrImageDoesNotExist, "No such image: %s") is all the task says; the pull's reason
// went to the daemon's log (moby daemon/cluster/executor/container/controller.go, Prepare).
const noSuchImage = "No such image: "

// imagePullErrors are the daemon's messages for an image it could not pull, as a task error may
// carry them (moby distribution/errors.go, notFoundError and translatePullError).
var imagePullErrors = regexp.MustCompile(`^` + regexp.QuoteMeta(noSuchImage) +
	`|pull access denied for |manifest for \S+ not found|repository \S+ not found|no matching manifest for |error pulling image configuration`)

// imageFailure reports whether a task's error says that its image could not be had.
func imageFailure(taskErr string) bool {
	return imagePullErrors.MatchString(taskErr)
}

// unreachableMarkers are the words of a pull that never got an answer about the image: Go's
// net and net/http errors as the daemon passes them on, Docker Hub's rate limit, and a registry's
// server errors.
var unreachableMarkers = []string{
	"dial tcp", "no such host", "i/o timeout", "tls handshake timeout", "connection refused",
	"connection reset", "network is unreachable", "no route to host", "client.timeout exceeded",
	"request canceled while waiting for connection", "context deadline exceeded", "x509:",
	"server gave http response to https client", "toomanyrequests", "unexpected http status: 5",
}

// refusedMarkers are the words of a registry that answered that the image is not there for us
// (OCI distribution spec error codes as moby words them, distribution/errors.go).
var refusedMarkers = []string{
	"manifest unknown", "name unknown", "not found", "pull access denied", "denied:", "unauthorized",
	"repository does not exist", "no matching manifest for",
}

// registryUnreachable classifies the daemon's reason for an image it could not pull: false when the
// registry answered that the image is not there for us (the recipe's fault), true when it could
// not be reached or its answer is not recognised (not proven to be the recipe's fault). Network
// words win: they can wrap a request URL that happens to contain any other word.
func registryUnreachable(reason string) bool {
	lower := strings.ToLower(reason)
	for _, m := range unreachableMarkers {
		if strings.Contains(lower, m) {
			return true
		}
	}
	for _, m := range refusedMarkers {
		if strings.Contains(lower, m) {
			return false
		}
	}
	return true
}

// imageError explains task t of svc, which failed for want of its image. When the task only says
// "No such image", the daemon is asked to look the image up in its registry (the distribution
// API, which reads the manifest without pulling), so the error carries the registry's own answer.
func (c *Client) imageError(ctx context.Context, svc swarm.Service, t swarm.Task) *ImageError {
	var image string
	if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
		image = cs.Image
	}
	if cs := t.Spec.ContainerSpec; cs != nil && cs.Image != "" {
		image = cs.Image
	}
	e := &ImageError{Service: svc.Spec.Name, Image: image, Reason: t.Status.Err}
	if !strings.HasPrefix(t.Status.Err, noSuchImage) {
		e.Unreachable = registryUnreachable(e.Reason)
		return e
	}
	rctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	info, err := c.api.DistributionInspect(rctx, image, "")
	switch {
	case err == nil:
		e.Reason = fmt.Sprintf("the registry lists it (%s), yet pulling it on this host failed; the daemon's log says why",
			info.Descriptor.Digest)
		e.Unreachable = true
	case errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		e.Reason = fmt.Sprintf("the registry did not answer within %s", registryTimeout)
		e.Unreachable = true
	default:
		e.Reason = strings.TrimPrefix(err.Error(), "Error response from daemon: ")
		e.Unreachable = registryUnreachable(e.Reason)
	}
	return e
}

// newestImageFailure returns the newest of failures (oldest first) that failed for want of its
// image.
func newestImageFailure(failures []swarm.Task) (swarm.Task, bool) {
	for i := len(failures) - 1; i >= 0; i-- {
		if imageFailure(failures[i].Status.Err) {
			return failures[i], true
		}
	}
	return swarm.Task{}, false
}
