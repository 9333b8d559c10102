package docker

import (
	"context"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Client is Berth's handle on one Docker engine.
type Client struct {
	api      *client.Client
	endpoint Endpoint
	helpers  *helpers
	egress   egressHandlers
}

// New connects to the engine named by DOCKER_HOST or the current docker
// context (see ResolveEndpoint). It does not talk to the engine yet: a
// client for a dead engine is still useful, the Monitor reports why.
func New() (*Client, error) {
	ep, err := ResolveEndpoint(OSEnv())
	if err != nil {
		return nil, err
	}
	return NewAt(ep)
}

// NewAt connects to a given endpoint. The API version is negotiated on first
// use (the SDK's default); TLS settings come from DOCKER_CERT_PATH and
// DOCKER_TLS_VERIFY as for the docker CLI.
func NewAt(ep Endpoint) (*Client, error) {
	api, err := client.New(client.WithHost(ep.Host), client.WithTLSClientConfigFromEnv(), client.WithAPIVersionFromEnv())
	if err != nil {
		return nil, fmt.Errorf("docker client for %s (%s): %w", ep.Host, ep.Source, err)
	}
	return &Client{api: api, endpoint: ep, helpers: newHelpers()}, nil
}

// Endpoint is where this client connects.
func (c *Client) Endpoint() Endpoint { return c.endpoint }

// Close releases the client's connections, its helpers' channels included
// (each helper then ends, and with it whatever it still ran).
func (c *Client) Close() error {
	c.closeHelpers()
	return c.api.Close()
}

// Check takes one reading of the engine's health: can Berth reach it, is it
// new enough, is the sandbox image there, is the requested runtime there.
func (c *Client) Check(ctx context.Context, image, runtime string) Status {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	p := probe{host: c.endpoint.Host, image: image, runtime: runtime}
	ping, err := c.api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		p.pingErr = err
		return stamp(classify(p))
	}
	p.apiVersion, p.osType = ping.APIVersion, ping.OSType
	if p.apiVersion != "" && versionLess(p.apiVersion, MinAPIVersion) {
		return stamp(classify(p))
	}
	if v, err := c.api.ServerVersion(ctx, client.ServerVersionOptions{}); err == nil {
		p.engine = v.Version
	} else {
		p.infoErr = err
		return stamp(classify(p))
	}
	if runtime != "" {
		info, err := c.api.Info(ctx, client.InfoOptions{})
		if err != nil {
			p.infoErr = err
			return stamp(classify(p))
		}
		for name := range info.Info.Runtimes {
			p.runtimes = append(p.runtimes, name)
		}
	}
	if image != "" {
		p.imageFound, p.imageErr = c.ImagePresent(ctx, image)
		if p.imageErr != nil && !cerrdefs.IsNotFound(p.imageErr) {
			if _, perr := c.api.Ping(ctx, client.PingOptions{}); perr != nil {
				p.pingErr = perr // the engine went away mid-check
			}
		}
	}
	return stamp(classify(p))
}

func stamp(s Status) Status {
	s.Since = time.Now()
	return s
}
