// Package notify renders messages about pipeline runs and delivers them to the
// notification channels declared under `channels:` in sluice.yaml.
//
// It is a plain library: the caller decides when to notify, keeps the
// exactly-once delivery log, resolves `${secret:...}` references and passes the
// resolved secret values to [Sender.Send], which scrubs them from everything it
// sends, logs or returns.
//
// # Channels
//
//	channels:
//	  data-eng:    {type: email, to: [data-eng@example.com], smtp: "${secret:SMTP_URL}", from: sluice@example.com}
//	  data-alerts: {type: slack, webhook: "${secret:SLACK_WEBHOOK_URL}"}
//	  ops-hook:    {type: webhook, url: "https://ops.example.com/hooks/sluice", secret: "${secret:HOOK_HMAC_KEY}", headers: {X-Team: data}}
//	  console:     {type: log}
//
// email: `smtp` is an SMTP URL.
//
//	smtp://user:pass@host:587     STARTTLS is required (the default port is 587)
//	smtps://user:pass@host:465    implicit TLS (the default port is 465)
//	smtp://relay:25?starttls=false
//	                              plain text, for a local relay on a trusted network
//	                              only; credentials are refused on such a connection
//	smtp://host?from=sluice@example.com
//	                              sender address used when the channel has no `from`
//
// Credentials use AUTH PLAIN and are only ever sent over TLS. Without `from`
// on the channel or in the URL the sender is sluice@<hostname>. The mail is
// plain text (UTF-8, quoted-printable) with Auto-Submitted: auto-generated and a
// Message-ID derived from the delivery id, so a retried delivery carries the
// same Message-ID.
//
// slack: `webhook` is a Slack incoming-webhook URL. The whole URL is a secret:
// it never appears in errors. The POST body is {"text": ..., "blocks": [...]}
// with mrkdwn sections.
//
// webhook: POSTs the [Event] as JSON (Content-Type: application/json) to `url`
// with these headers, plus the channel's `headers`:
//
//	X-Sluice-Event       the event kind, e.g. on_failure
//	X-Sluice-Delivery    the caller's delivery id; identical across retries, so
//	                     receivers can drop duplicates
//	X-Sluice-Timestamp   unix seconds at sending (only when `secret` is set)
//	X-Sluice-Signature   sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed
//	                     with `secret`> (only when `secret` is set)
//
// Receivers check the last two with [VerifySignature]. The body, field by
// field (fields are only ever added, never renamed or removed; every field is
// always present):
//
//	{
//	  "kind": "on_failure",            // on_start, on_success, on_failure, on_canceled, on_duration_warning, on_warning
//	  "project": "olist",
//	  "pipeline": "olist_daily",
//	  "env": "prod",
//	  "outcome": "FAILED",             // SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT, CANCELED, RUNNING
//	  "workflow_id": "sluice/olist_daily/prod/2026-11-22",
//	  "run_id": "0199c3b8-...",
//	  "trigger": "SCHEDULED",          // MANUAL, SCHEDULED, BACKFILL, SIGNAL, REPAIR, CHAINED
//	  "logical_date": "2026-11-22T00:00:00Z",   // RFC 3339 in UTC, or null
//	  "started_at": "2026-11-22T06:00:00Z",     // RFC 3339 in UTC, or null
//	  "duration_seconds": 3723.5,
//	  "failed_tasks": [                // [] when none
//	    {"key": "run_main_pipeline", "state": "FAILED", "error_type": "DltUpdateFailed",
//	     "message": "first lines of the error (at most 20)", "attempts": 3}
//	  ],
//	  "warnings": ["..."],             // [] when none
//	  "ui_url": "https://temporal.example.com/...",
//	  "repair_command": "sluice repair ...",
//	  "delivery_id": "..."
//	}
//
// log: writes one structured record through the caller's *slog.Logger: the
// subject as message, the rendered text and the event's fields as attributes.
//
// # Errors
//
// [Sender.Send] returns an [*Error] whose text names what was being done and
// never contains a secret. [IsPermanent] tells the caller whether retrying can
// help: bad configuration, HTTP 3xx and 4xx (except 408, 425 and 429), SMTP 5xx
// replies, failed authentication, a missing STARTTLS and an untrusted
// certificate are permanent; network errors, timeouts, HTTP 5xx, 408, 425, 429
// and SMTP 4xx replies are transient.
package notify
