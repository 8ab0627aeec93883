package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// CardsChannel is the notification channel a published or confirmed card
// is announced on (the Society's code as payload), so that every replica
// shows it at once.
const CardsChannel = "society_cards"

// Listen calls fn for each notification on channel until ctx ends, on a
// connection of its own taken from the pool. When the connection is lost it
// reconnects after a pause and calls fn once, since a notification may
// have been missed meanwhile. It returns when ctx ends.
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) {
	const pause = time.Second
	for ctx.Err() == nil {
		s.listenOnce(ctx, channel, fn)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		fn("")
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, fn func(string)) {
	actx, cancel := s.ctx(ctx)
	pc, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		return
	}
	// The connection leaves the pool and is closed afterwards: it LISTENs.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	lctx, cancel := s.ctx(ctx)
	_, err = conn.Exec(lctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
	cancel()
	if err != nil {
		return
	}
	for {
		// A quiet connection is pinged every minute, so that a dead one
		// is noticed and replaced.
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded):
			pctx, cancel := s.ctx(ctx)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		default:
			return
		}
	}
}
