package notify

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// Channel types, the values of Channel.Type.
const (
	TypeEmail   = "email"
	TypeSlack   = "slack"
	TypeWebhook = "webhook"
	TypeLog     = "log"
)

var channelTypes = []string{TypeEmail, TypeSlack, TypeWebhook, TypeLog}

// Channel is one named destination under `channels:` in sluice.yaml. Only the
// fields of its Type may be set. String fields may hold `${secret:NAME}`
// references in the spec; Sender.Send expects them resolved.
type Channel struct {
	Type    string            `json:"type" jsonschema:"required,enum=email,enum=slack,enum=webhook,enum=log,description=Kind of channel: email (SMTP)\\, slack (incoming webhook)\\, webhook (signed JSON POST) or log (the worker's log)."`
	To      []string          `json:"to,omitempty" jsonschema:"description=email: recipient addresses."`
	SMTP    string            `json:"smtp,omitempty" jsonschema:"description=email: SMTP URL such as smtp://user:pass@host:587 (STARTTLS required) or smtps://user:pass@host:465; ?starttls=false only for a local relay. Use a ${secret:NAME} reference."`
	From    string            `json:"from,omitempty" jsonschema:"description=email: sender address. Default: the SMTP URL's from= parameter\\, else sluice@<hostname>."`
	Webhook string            `json:"webhook,omitempty" jsonschema:"description=slack: incoming webhook URL. It is a secret: use a ${secret:NAME} reference."`
	URL     string            `json:"url,omitempty" jsonschema:"description=webhook: http(s) URL that receives the event as a JSON POST."`
	Secret  string            `json:"secret,omitempty" jsonschema:"description=webhook: HMAC-SHA256 key; when set\\, requests carry X-Sluice-Timestamp and X-Sluice-Signature. Use a ${secret:NAME} reference."`
	Headers map[string]string `json:"headers,omitempty" jsonschema:"description=webhook: extra HTTP headers sent with every request. X-Sluice-* and Content-Type are reserved."`
}

// Validate checks the channel declared as channels.<name> and returns every
// problem found, each naming the channel and the fix. Values that still hold a
// `${...}` reference are checked for presence only.
func (c Channel) Validate(name string) error {
	problems := c.problems(false)
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("channels.%s: %s", name, p)
	}
	return errors.Join(errs...)
}

// problems lists what is wrong with c. With resolved set, every value must be
// final: a leftover `${...}` reference is a problem, not a reason to skip.
func (c Channel) problems(resolved bool) []string {
	var p []string
	literal := func(field, v string) bool {
		if !strings.Contains(v, "${") {
			return true
		}
		if resolved {
			p = append(p, fmt.Sprintf("`%s` still holds an unresolved reference; resolve ${...} references before sending", field))
		}
		return false
	}
	unused := func(fields ...string) {
		for _, f := range fields {
			if c.isSet(f) {
				p = append(p, fmt.Sprintf("`%s` is not used by %s channels; remove it", f, c.Type))
			}
		}
	}

	switch c.Type {
	case TypeEmail:
		if len(c.To) == 0 {
			p = append(p, "email channel needs `to` (a list of recipient addresses)")
		}
		for i, to := range c.To {
			if literal(fmt.Sprintf("to[%d]", i), to) {
				if _, err := mail.ParseAddress(to); err != nil {
					p = append(p, fmt.Sprintf("`to[%d]` %q is not an email address: %v", i, to, err))
				}
			}
		}
		if c.SMTP == "" {
			p = append(p, "email channel needs `smtp` (an SMTP URL such as \"${secret:SMTP_URL}\" holding smtp://user:pass@host:587)")
		} else if literal("smtp", c.SMTP) {
			if _, err := parseSMTPURL(c.SMTP); err != nil {
				p = append(p, fmt.Sprintf("`smtp`: %v", err))
			}
		}
		if c.From != "" && literal("from", c.From) {
			if _, err := mail.ParseAddress(c.From); err != nil {
				p = append(p, fmt.Sprintf("`from` %q is not an email address: %v", c.From, err))
			}
		}
		unused("webhook", "url", "secret", "headers")
	case TypeSlack:
		if c.Webhook == "" {
			p = append(p, "slack channel needs `webhook` (the incoming webhook URL, e.g. \"${secret:SLACK_WEBHOOK_URL}\")")
		} else if literal("webhook", c.Webhook) {
			// The URL is a secret: describe the problem without echoing it.
			if err := checkHTTPURL(c.Webhook); err != nil {
				p = append(p, fmt.Sprintf("`webhook` is not a valid http(s) URL: %v", err))
			}
		}
		unused("to", "smtp", "from", "url", "secret", "headers")
	case TypeWebhook:
		if c.URL == "" {
			p = append(p, "webhook channel needs `url` (the http(s) URL that receives the JSON POST)")
		} else if literal("url", c.URL) {
			if err := checkHTTPURL(c.URL); err != nil {
				p = append(p, fmt.Sprintf("`url` is not a valid http(s) URL: %v", err))
			}
		}
		if c.Secret != "" {
			literal("secret", c.Secret)
		}
		for _, k := range sortedKeys(c.Headers) {
			if msg := checkHeader(k, c.Headers[k]); msg != "" {
				p = append(p, fmt.Sprintf("`headers.%s` %s", k, msg))
			}
			literal("headers."+k, c.Headers[k])
		}
		unused("to", "smtp", "from", "webhook")
	case TypeLog:
		unused("to", "smtp", "from", "webhook", "url", "secret", "headers")
	case "":
		p = append(p, fmt.Sprintf("`type` is required; use one of %s", strings.Join(channelTypes, ", ")))
	default:
		p = append(p, fmt.Sprintf("unknown channel type %q; use one of %s", c.Type, strings.Join(channelTypes, ", ")))
	}
	return p
}

func (c Channel) isSet(field string) bool {
	switch field {
	case "to":
		return len(c.To) > 0
	case "smtp":
		return c.SMTP != ""
	case "from":
		return c.From != ""
	case "webhook":
		return c.Webhook != ""
	case "url":
		return c.URL != ""
	case "secret":
		return c.Secret != ""
	case "headers":
		return len(c.Headers) > 0
	}
	return false
}

// checkHTTPURL reports why raw is not an absolute http(s) URL. Its messages
// never quote raw, which may be a secret.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the input; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return errors.New("unparsable URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("scheme must be https or http, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("missing host")
	}
	return nil
}

// reservedHeaders are set by the webhook sender itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent"}

func checkHeader(name, value string) string {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenRune(r) }) >= 0 {
		return "is not a valid HTTP header name; use letters, digits and '-'"
	}
	canonical := textproto.CanonicalMIMEHeaderKey(name)
	if strings.HasPrefix(canonical, "X-Sluice-") || slices.Contains(reservedHeaders, canonical) {
		return "is set by Sluice itself; remove it"
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return "value contains a line break; use a single-line value"
	}
	return ""
}

func isTokenRune(r rune) bool {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
