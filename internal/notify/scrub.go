package notify

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// redacted replaces every secret value in messages and errors.
const redacted = "***"

// Scrub replaces every occurrence of each non-empty secret in s, as written and
// in its URL-encoded forms (query, path and user-info escaping), with "***". Longer
// secrets are replaced first, so a secret that contains another one is hidden
// whole.
func Scrub(s string, secrets []string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	forms := make([]string, 0, 4*len(secrets))
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		forms = append(forms, secret, url.QueryEscape(secret), url.PathEscape(secret),
			strings.TrimPrefix(url.UserPassword("", secret).String(), ":")) // as in smtp://user:<secret>@host
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, f := range slices.Compact(forms) {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// scrubEvent returns a copy of e with secrets scrubbed from every text field.
func scrubEvent(e Event, secrets []string) Event {
	sc := func(s string) string { return Scrub(s, secrets) }
	e.Kind = sc(e.Kind)
	e.Project = sc(e.Project)
	e.Pipeline = sc(e.Pipeline)
	e.Env = sc(e.Env)
	e.Outcome = sc(e.Outcome)
	e.WorkflowID = sc(e.WorkflowID)
	e.RunID = sc(e.RunID)
	e.Trigger = sc(e.Trigger)
	e.UIURL = sc(e.UIURL)
	e.RepairCommand = sc(e.RepairCommand)
	e.DeliveryID = sc(e.DeliveryID)
	if e.FailedTasks != nil {
		tasks := make([]TaskFailure, len(e.FailedTasks))
		for i, t := range e.FailedTasks {
			tasks[i] = TaskFailure{
				Key:       sc(t.Key),
				State:     sc(t.State),
				ErrorType: sc(t.ErrorType),
				Message:   sc(t.Message),
				Attempts:  t.Attempts,
			}
		}
		e.FailedTasks = tasks
	}
	if e.Warnings != nil {
		warnings := make([]string, len(e.Warnings))
		for i, w := range e.Warnings {
			warnings[i] = sc(w)
		}
		e.Warnings = warnings
	}
	return e
}

// channelSecrets adds the values of ch that are secret by nature to the
// caller's list: the SMTP URL and its password, the Slack webhook URL and the
// webhook signing key.
func channelSecrets(ch Channel, secrets []string) []string {
	all := append([]string(nil), secrets...)
	switch ch.Type {
	case TypeEmail:
		all = append(all, ch.SMTP)
		if u, err := url.Parse(ch.SMTP); err == nil && u.User != nil {
			if pass, ok := u.User.Password(); ok {
				all = append(all, pass)
			}
		}
	case TypeSlack:
		all = append(all, ch.Webhook)
	case TypeWebhook:
		all = append(all, ch.Secret)
	}
	return all
}
