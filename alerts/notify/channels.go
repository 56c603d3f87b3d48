package notify

import (
	"fmt"
	"log/slog"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// ChannelConfig is one configured channel: a name, a kind and the kind's
// own section. A kind may be configured more than once.
type ChannelConfig struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Rate is the channel's limit ("20/min"); default: the kind's
	// documented limit. Sends on one channel are one at a time.
	Rate string `yaml:"rate"`

	rate Rate
}

// kind is how a channel kind is checked and built.
type kind struct {
	// rate is the kind's documented limit ("20/min" for the robots).
	rate     string
	validate func(c *ChannelConfig, errs *yamlconf.Errors, path string)
	build    func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error)
}

// kinds is the one table of channel kinds.
var kinds = map[string]kind{}

func (c *ChannelConfig) validate(errs *yamlconf.Errors, p string, seen map[string]bool) {
	if c.Name == "" || seen[c.Name] {
		errs.Addf(p+".name", "%q: missing or used twice", c.Name)
	}
	seen[c.Name] = true
	k, ok := kinds[c.Kind]
	if !ok {
		errs.Addf(p+".kind", "unknown channel kind %q (have %v)", c.Kind, sortedKeys(kinds))
		return
	}
	rate := c.Rate
	if rate == "" {
		rate = k.rate
	}
	var err error
	if c.rate, err = ParseRate(rate); err != nil {
		errs.Addf(p+".rate", "%v", err)
	}
	if k.validate != nil {
		k.validate(c, errs, p)
	}
}

// buildChannel makes the configured channel.
func buildChannel(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
	k, ok := kinds[c.Kind]
	if !ok || k.build == nil {
		return nil, fmt.Errorf("channel %s: unknown kind %q", c.Name, c.Kind)
	}
	ch, err := k.build(c, log.With("channel", c.Name))
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", c.Name, err)
	}
	return ch, nil
}
