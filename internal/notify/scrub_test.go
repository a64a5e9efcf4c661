package notify

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"Plain", "token abc123 leaked twice: abc123", []string{"abc123"}, "token *** leaked twice: ***"},
		{"QueryEscaped", "GET /?key=p%40ss+w%2Frd", []string{"p@ss w/rd"}, "GET /?key=***"},
		{"PathEscaped", "https://h/p@ss%20w%2Frd/x", []string{"p@ss w/rd"}, "https://h/***/x"},
		{"UserInfoEscaped", "smtp://u:p%40ss%20w%2Frd@host", []string{"p@ss w/rd"}, "smtp://u:***@host"},
		{"LongestFirst", "url https://hooks.slack.com/services/T0/B0/XYZ and key XYZ", []string{"XYZ", "https://hooks.slack.com/services/T0/B0/XYZ"}, "url *** and key ***"},
		{"EmptySecretIgnored", "nothing to hide", []string{""}, "nothing to hide"},
		{"NoSecrets", "nothing to hide", nil, "nothing to hide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Scrub(tt.in, tt.secrets))
		})
	}
}

func TestRenderOfScrubbedEvent(t *testing.T) {
	t.Parallel()
	e := failureEvent()
	e.FailedTasks[0].Message = "connect to postgres://etl:Tr0ub4dor%263@db:5432/warehouse failed\npassword Tr0ub4dor&3 rejected"
	msg := Render(scrubEvent(e, []string{"Tr0ub4dor&3"}))
	for _, s := range []string{msg.Subject, msg.Text, msg.Markdown} {
		require.NotContains(t, s, "Tr0ub4dor")
	}
	require.Contains(t, msg.Text, "    connect to postgres://etl:***@db:5432/warehouse failed\n    password *** rejected\n")
}
