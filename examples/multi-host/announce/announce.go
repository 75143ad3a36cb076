// Package announce is the demo's cron job: a process that serves no clients
// and keeps no connection open, yet posts a message into the chat room of
// every host. It publishes through Redis with the sioredis emitter: one
// PUBLISH, no subscription, no goroutine, so it can run, emit and exit.
//
//	rdb := redis.NewClient(opts)
//	defer rdb.Close()
//	err := announce.Post(ctx, emitter.New(rdb), announce.Message{Text: "Deploy at 17:00"})
package announce

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/examples/multi-host/events"
)

// Message is one announcement.
type Message struct {
	// Text is shown in the chat. Empty means a default text with the time.
	Text string
	// From names the sender; empty means "cron@<hostname>".
	From string
}

// Post emits m to the chat room of every host, through Redis.
func Post(ctx context.Context, e *emitter.Emitter, m Message) error {
	_, err := PostReach(ctx, e, m)
	return err
}

// PostReach is Post that also returns how many hosts Redis delivered the
// announcement to (emitter's EmitReach): 0 means that no host listens
// under this prefix.
func PostReach(ctx context.Context, e *emitter.Emitter, m Message) (int64, error) {
	now := time.Now()
	if m.Text == "" {
		m.Text = "Scheduled announcement: it is " + now.Format("15:04:05") + " — this message came from a cron job, not from a host."
	}
	if m.From == "" {
		h, _ := os.Hostname()
		m.From = "cron@" + h
	}
	// A map, not a struct, so that the keys arrive as written.
	return e.To(events.Room).EmitReach(ctx, events.Announcement, map[string]any{
		"text": m.Text,
		"from": m.From,
		"at":   now.UnixMilli(),
	})
}

// Run posts m once, or, with every > 0, every interval until ctx is done.
// Failures of a periodic run are logged and retried at the next tick; the
// error of a single run is returned.
func Run(ctx context.Context, e *emitter.Emitter, m Message, every time.Duration, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	post := func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n, err := PostReach(ctx, e, m)
		if err != nil {
			return fmt.Errorf("announce: %w", err)
		}
		if n == 0 {
			// Published, but nobody listened: a wrong prefix (-key), or
			// no host running.
			log.Warn("announcement reached 0 hosts: check -key (REDIS_KEY) and that hosts run", "room", events.Room)
			return nil
		}
		log.Info("announcement posted", "room", events.Room, "hosts", n)
		return nil
	}
	if every <= 0 {
		return post()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := post(); err != nil {
			log.Warn("announcement failed; retrying at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
