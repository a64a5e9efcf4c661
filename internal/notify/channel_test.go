package notify

import (
	"encoding/json"
	"testing"

	"github.com/invopop/jsonschema"
	"github.com/stretchr/testify/require"
)

func TestChannelValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		channel Channel
		want    string // "" for valid
	}{
		{"EmailWithReferences", Channel{Type: TypeEmail, To: []string{"data-eng@example.com"}, SMTP: "${secret:SMTP_URL}", From: "sluice@example.com"}, ""},
		{"EmailResolved", Channel{Type: TypeEmail, To: []string{"Data Eng <data-eng@example.com>"}, SMTP: "smtps://u:p@mail.example.com"}, ""},
		{"SlackWithReference", Channel{Type: TypeSlack, Webhook: "${secret:SLACK_WEBHOOK_URL}"}, ""},
		{"Webhook", Channel{Type: TypeWebhook, URL: "https://ops.example.com/hooks/sluice", Secret: "${secret:HOOK_HMAC_KEY}", Headers: map[string]string{"X-Team": "data"}}, ""},
		{"Log", Channel{Type: TypeLog}, ""},

		{"MissingType", Channel{}, "channels.data-eng: `type` is required; use one of email, slack, webhook, log"},
		{"UnknownType", Channel{Type: "pagerduty"}, `channels.data-eng: unknown channel type "pagerduty"; use one of email, slack, webhook, log`},
		{"EmailNeedsTo", Channel{Type: TypeEmail, SMTP: "${secret:SMTP_URL}"}, "channels.data-eng: email channel needs `to` (a list of recipient addresses)"},
		{"EmailNeedsSMTP", Channel{Type: TypeEmail, To: []string{"a@example.com"}},
			"channels.data-eng: email channel needs `smtp` (an SMTP URL such as \"${secret:SMTP_URL}\" holding smtp://user:pass@host:587)"},
		{"EmailBadAddress", Channel{Type: TypeEmail, To: []string{"data-eng"}, SMTP: "${secret:SMTP_URL}"},
			"channels.data-eng: `to[0]` \"data-eng\" is not an email address: mail: missing '@' or angle-addr"},
		{"EmailBadScheme", Channel{Type: TypeEmail, To: []string{"a@example.com"}, SMTP: "http://mail.example.com"},
			"channels.data-eng: `smtp`: scheme must be smtp (STARTTLS) or smtps (implicit TLS), not \"http\""},
		{"EmailUnknownParam", Channel{Type: TypeEmail, To: []string{"a@example.com"}, SMTP: "smtp://relay:25?startls=false"},
			"channels.data-eng: `smtp`: unknown parameter \"startls\"; known parameters are starttls and from"},
		{"EmailPasswordWithoutTLS", Channel{Type: TypeEmail, To: []string{"a@example.com"}, SMTP: "smtp://u:hunter2@relay:25?starttls=false"},
			"channels.data-eng: `smtp`: credentials are only sent over TLS; remove user:password or drop starttls=false"},
		{"SlackNeedsWebhook", Channel{Type: TypeSlack}, "channels.data-eng: slack channel needs `webhook` (the incoming webhook URL, e.g. \"${secret:SLACK_WEBHOOK_URL}\")"},
		{"SlackBadWebhookNotEchoed", Channel{Type: TypeSlack, Webhook: "hooks.slack.com/services/T0/B0/SECRET"},
			"channels.data-eng: `webhook` is not a valid http(s) URL: scheme must be https or http, not \"\""},
		{"SlackForeignFields", Channel{Type: TypeSlack, Webhook: "${secret:W}", To: []string{"a@example.com"}, URL: "https://x"},
			"channels.data-eng: `to` is not used by slack channels; remove it\nchannels.data-eng: `url` is not used by slack channels; remove it"},
		{"WebhookNeedsURL", Channel{Type: TypeWebhook}, "channels.data-eng: webhook channel needs `url` (the http(s) URL that receives the JSON POST)"},
		{"WebhookReservedHeader", Channel{Type: TypeWebhook, URL: "https://x.example.com", Headers: map[string]string{"x-sluice-signature": "forged", "Bad Name": "v"}},
			"channels.data-eng: `headers.Bad Name` is not a valid HTTP header name; use letters, digits and '-'\n" +
				"channels.data-eng: `headers.x-sluice-signature` is set by Sluice itself; remove it"},
		{"LogTakesNothing", Channel{Type: TypeLog, Webhook: "https://x"}, "channels.data-eng: `webhook` is not used by log channels; remove it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.channel.Validate("data-eng")
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestChannelSMTPErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	ch := Channel{Type: TypeEmail, To: []string{"a@example.com"}, SMTP: "smtp://user:s3cr3t-pw@mail.example.com:notaport"}
	err := ch.Validate("data-eng")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t-pw")
}

func TestChannelJSONSchema(t *testing.T) {
	t.Parallel()
	// The spec package embeds Channel; its editor schema comes from these tags.
	schema := (&jsonschema.Reflector{DoNotReference: true}).Reflect(&Channel{})
	raw, err := json.Marshal(schema)
	require.NoError(t, err)
	var got struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type        string `json:"type"`
			Enum        []any  `json:"enum"`
			Description string `json:"description"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, []string{"type"}, got.Required)
	require.Equal(t, []any{"email", "slack", "webhook", "log"}, got.Properties["type"].Enum)
	require.Equal(t, "Kind of channel: email (SMTP), slack (incoming webhook), webhook (signed JSON POST) or log (the worker's log).",
		got.Properties["type"].Description)
	require.Equal(t, "email: sender address. Default: the SMTP URL's from= parameter, else sluice@<hostname>.", got.Properties["from"].Description)
	for _, name := range []string{"type", "to", "smtp", "from", "webhook", "url", "secret", "headers"} {
		require.NotEmpty(t, got.Properties[name].Description, "property %s", name)
	}
	require.Len(t, got.Properties, 8)
}
