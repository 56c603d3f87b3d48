package notify

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/dingtalk"
	"github.com/roomwatch/roomwatch/alerts/channels/email"
	"github.com/roomwatch/roomwatch/alerts/channels/httpsms"
	"github.com/roomwatch/roomwatch/alerts/channels/modem"
	"github.com/roomwatch/roomwatch/alerts/channels/wecom"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// ChannelConfig is one configured channel: a name, a kind and the kind's
// own section. A kind may be configured more than once.
type ChannelConfig struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Rate is the channel's limit ("20/min"); default: the vendor's
	// documented limit (channels.Limited: the robots' 20 a minute), or
	// none. Sends on one channel are one at a time.
	Rate string `yaml:"rate"`

	// The kind's own section: exactly the one named by Kind.
	WeCom    *wecom.Config    `yaml:"wecom"`
	DingTalk *dingtalk.Config `yaml:"dingtalk"`
	HTTPSMS  *httpsms.Config  `yaml:"httpsms"`
	Email    *email.Config    `yaml:"email"`
	Modem    *modem.Config    `yaml:"modem"`

	rate    Rate
	rateSet bool
}

// limit is the channel's pace: the configured rate, else the vendor's
// documented one.
func (c *ChannelConfig) limit(ch channels.Channel) Rate {
	if l, ok := ch.(channels.Limited); ok && !c.rateSet {
		lim := l.Limit()
		return Rate{N: lim.Messages, Per: lim.Per}
	}
	return c.rate
}

// UnmarshalYAML decodes a channel, its kind's section over the kind's
// defaults (a modem's baud and timeouts).
func (c *ChannelConfig) UnmarshalYAML(unmarshal func(any) error) error {
	var probe struct {
		Kind string `yaml:"kind"`
	}
	_ = unmarshal(&probe)
	type plain ChannelConfig
	var d plain
	if probe.Kind == "modem" {
		m := modem.DefaultConfig()
		d.Modem = &m
	}
	if err := unmarshal(&d); err != nil {
		return err
	}
	*c = ChannelConfig(d)
	return nil
}

// kind is how a channel kind is checked and built.
type kind struct {
	// rate, if set, is the kind's limit when the configuration gives none
	// and the channel documents none (tests).
	rate string
	// section is the kind's own section of c; nil when missing.
	section func(c *ChannelConfig) validator
	build   func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error)
}

type validator interface {
	Validate(errs *yamlconf.Errors, path string)
}

// kinds is the one table of channel kinds.
var kinds = map[string]kind{
	"wecom": {
		section: func(c *ChannelConfig) validator { return nilable(c.WeCom) },
		build: func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
			return wecom.New(c.Name, *c.WeCom, log)
		},
	},
	"dingtalk": {
		section: func(c *ChannelConfig) validator { return nilable(c.DingTalk) },
		build: func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
			return dingtalk.New(c.Name, *c.DingTalk, log)
		},
	},
	"httpsms": {
		section: func(c *ChannelConfig) validator { return nilable(c.HTTPSMS) },
		build: func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
			return httpsms.New(c.Name, *c.HTTPSMS, log)
		},
	},
	"modem": {
		section: func(c *ChannelConfig) validator { return nilable(c.Modem) },
		build: func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
			return modem.New(c.Name, *c.Modem, log)
		},
	},
	"email": {
		section: func(c *ChannelConfig) validator { return nilable(c.Email) },
		build: func(c *ChannelConfig, log *slog.Logger) (channels.Channel, error) {
			return email.New(c.Name, *c.Email, log)
		},
	},
}

// nilable turns a nil section pointer into a nil interface.
func nilable[T any, P interface {
	*T
	validator
}](p P) validator {
	if p == nil {
		return nil
	}
	return p
}

// sections names the kind sections present in c.
func (c *ChannelConfig) sections() []string {
	var out []string
	for name, present := range map[string]bool{"wecom": c.WeCom != nil, "dingtalk": c.DingTalk != nil, "httpsms": c.HTTPSMS != nil, "email": c.Email != nil, "modem": c.Modem != nil} {
		if present && name != c.Kind {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

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
	c.rateSet = rate != ""
	for _, other := range c.sections() {
		errs.Addf(p+"."+other, "a %s section in a channel of kind %s", other, c.Kind)
	}
	if k.section == nil {
		return
	}
	if sec := k.section(c); sec == nil {
		errs.Addf(p+"."+c.Kind, "missing: the %s settings of channel %s", c.Kind, c.Name)
	} else {
		sec.Validate(errs, p+"."+c.Kind)
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
