package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery states.
const (
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// Delivery is one row of the notification delivery log.
type Delivery struct {
	DeliveryID  string     `json:"delivery_id"`
	WorkflowID  string     `json:"workflow_id"`
	RunID       string     `json:"run_id"`
	Event       string     `json:"event"`
	Channel     string     `json:"channel"`
	ChannelType string     `json:"channel_type"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
}

// BeginDelivery records an attempt to send and returns the delivery as it
// was before: a delivery already sent must not be sent again.
func (s *Store) BeginDelivery(ctx context.Context, d Delivery) (prev *Delivery, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var p Delivery
		err := tx.QueryRow(ctx, `
SELECT delivery_id, workflow_id, run_id, event, channel, channel_type, status, attempts, error, created_at, sent_at
FROM notifications WHERE delivery_id = $1 FOR UPDATE`, d.DeliveryID).Scan(
			&p.DeliveryID, &p.WorkflowID, &p.RunID, &p.Event, &p.Channel, &p.ChannelType, &p.Status, &p.Attempts, &p.Error, &p.CreatedAt, &p.SentAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			prev = &p
			if p.Status == DeliverySent {
				return nil
			}
		}
		_, err = tx.Exec(ctx, `
INSERT INTO notifications (delivery_id, workflow_id, run_id, event, channel, channel_type, status, attempts)
VALUES ($1, $2, $3, $4, $5, $6, 'sending', 1)
ON CONFLICT (delivery_id) DO UPDATE SET status = 'sending', attempts = notifications.attempts + 1`,
			d.DeliveryID, d.WorkflowID, d.RunID, d.Event, d.Channel, d.ChannelType)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	return prev, nil
}

// EndDelivery records how an attempt ended.
func (s *Store) EndDelivery(ctx context.Context, id, status, errText string) error {
	_, err := s.pool.Exec(ctx, `
UPDATE notifications SET status = $2, error = $3, sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
WHERE delivery_id = $1`, id, status, errText)
	if err != nil {
		return fmt.Errorf("delivery log: %w", err)
	}
	return nil
}

// Deliveries lists the notifications of a run (runID "" = any run of the id).
func (s *Store) Deliveries(ctx context.Context, workflowID, runID string) ([]Delivery, error) {
	rows, err := s.pool.Query(ctx, `
SELECT delivery_id, workflow_id, run_id, event, channel, channel_type, status, attempts, error, created_at, sent_at
FROM notifications WHERE workflow_id = $1 AND ($2 = '' OR run_id = $2) ORDER BY created_at, delivery_id`, workflowID, runID)
	if err != nil {
		return nil, fmt.Errorf("listing notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := row.Scan(&d.DeliveryID, &d.WorkflowID, &d.RunID, &d.Event, &d.Channel, &d.ChannelType, &d.Status, &d.Attempts, &d.Error, &d.CreatedAt, &d.SentAt)
		return d, err
	})
}
