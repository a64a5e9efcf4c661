package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// slackPayload is the body of a Slack incoming-webhook POST.
type slackPayload struct {
	Text   string       `json:"text"` // fallback for notifications and old clients
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (s *Sender) sendSlack(ctx context.Context, ch Channel, e Event, secrets []string) error {
	body, err := slackBody(e, secrets)
	if err != nil {
		return err
	}
	return s.post(ctx, "Slack webhook at "+hostOf(ch.Webhook), ch.Webhook, nil, body)
}

// slackBody renders e as the JSON body of an incoming-webhook POST: one mrkdwn
// section block per part of the message.
func slackBody(e Event, secrets []string) ([]byte, error) {
	v := newView(e)
	p := slackPayload{Text: Scrub(esc("[sluice] "+v.headline()), secrets)}
	for _, section := range v.mrkdwnSections() {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: slackText{Type: "mrkdwn", Text: Scrub(section, secrets)}})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, permanent(fmt.Errorf("encoding Slack message: %w", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
