package server

import (
	"bytes"
	"errors"
	"time"

	"github.com/llmedge/llmedge/server/cache"
	"github.com/llmedge/llmedge/upstream"
)

// cacheDriver makes the upstream call of a flight on its own goroutine,
// with its own copy of the request and its own cancel: the client that
// started it may leave while others still wait. It publishes the answer
// to the flight and stores it when it ended cleanly.
type cacheDriver struct {
	reg    *upstream.Registry
	g      *upstream.Group
	sc     *cache.Cache
	f      *cache.Flight
	key    cache.Key
	store  bool
	ttl    time.Duration
	req    upstream.ChatRequest
	cancel upstream.Cancel
}

func newCacheDriver(sn *snapshot, c *call, g *upstream.Group, f *cache.Flight, store bool) *cacheDriver {
	d := &cacheDriver{reg: sn.reg, g: g, sc: sn.cache, f: f, key: c.cache.key, store: store, ttl: c.cache.ctl.TTL}
	d.req = c.req
	// The client's buffers go back to their pools when its request
	// ends; the call may outlive it.
	d.req.Body = bytes.Clone(c.req.Body)
	d.req.Model = bytes.Clone(c.req.Model)
	d.req.RequestID = bytes.Clone(c.req.RequestID)
	d.req.UserID = bytes.Clone(c.req.UserID)
	d.req.ResponseID, d.req.Query = nil, nil
	d.req.Cancel = &d.cancel
	f.SetCancel(d.cancel.Cancel)
	return d
}

// driverHandoff passes a call to an idle driver goroutine. Drivers are
// kept for driverIdle after a call: a fresh goroutine would grow its
// stack to the upstream call's depth on every miss (stack copying was a
// tenth of a miss's CPU).
var driverHandoff = make(chan *cacheDriver)

const driverIdle = 10 * time.Second

// startDriver runs d's call on an idle driver, or a new one.
func startDriver(d *cacheDriver) {
	select {
	case driverHandoff <- d:
	default:
		go driverLoop(d)
	}
}

func driverLoop(d *cacheDriver) {
	t := time.NewTimer(driverIdle)
	defer t.Stop()
	for {
		d.run()
		t.Reset(driverIdle)
		select {
		case d = <-driverHandoff:
		case <-t.C:
			return
		}
	}
}

func (d *cacheDriver) run() {
	resp := upstream.AcquireResponse()
	defer upstream.ReleaseResponse(resp)
	err := d.reg.Chat(d.g, &d.req, resp)
	fi := &flightInfo{deployment: resp.Deployment, attempts: resp.Attempts, upstreamWait: resp.UpstreamWait, status: resp.StatusCode}
	if err != nil {
		fi.usage = resp.Usage
		var ue *upstream.Error
		if !errors.As(err, &ue) {
			err = &upstream.Error{Status: 502, Type: "api_error", Code: "upstream_error", Message: "upstream failure"}
		}
		d.f.Fail(err, fi)
		return
	}
	now := time.Now()
	if resp.Stream == nil {
		resp.UsageFromBody()
		fi.usage = resp.Usage
		if d.store && resp.StatusCode == 200 {
			e := cache.JSONEntry(resp.ContentType, resp.Body)
			e.Tokens = int64(resp.Usage.PromptTokens + resp.Usage.CompletionTokens)
			d.sc.Put(&d.key, e, d.ttl, now)
		}
		d.f.Answer(resp.ContentType, resp.Body, fi)
		return
	}
	d.f.SetInfo(fi)
	// The request's copy is not needed once the stream has started
	// (server.letBodyGo lets the client's go); its model is a copy.
	d.req.Body = nil
	resp.LetRequestGo(&d.req)
	rerr := resp.Stream.Relay(d.f)
	done := &flightInfo{deployment: resp.Deployment, attempts: resp.Attempts, upstreamWait: resp.UpstreamWait,
		status: fi.status, usage: resp.Usage}
	if rerr == nil && d.store {
		e := cache.StreamEntry(d.f.Events())
		e.Tokens = int64(resp.Usage.PromptTokens + resp.Usage.CompletionTokens)
		d.sc.Put(&d.key, e, d.ttl, time.Now())
	}
	d.f.End(rerr, done)
}
