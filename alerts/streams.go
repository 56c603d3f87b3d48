package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Config is the JetStream layout of alarms and daily records (the "alerts"
// section of the configuration). Zero fields take DefaultConfig's values
// through Defaults.
type Config struct {
	// StreamPrefix names the alarm stream of each site: <prefix>_<site>.
	StreamPrefix string `yaml:"stream_prefix"`
	// MaxAge is how long alarm messages are kept. Alarms are audit
	// records: the default is 400 days (a year and an inspection).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes bounds each site's alarm stream (64MiB, 2GiB); the oldest
	// messages go first. On an external NATS server the stream reserves
	// it up front (see DefaultAlarmMaxBytes).
	MaxBytes yamlconf.Size `yaml:"max_bytes"`
	// MaxMsgSize bounds one alarm message (64KiB).
	MaxMsgSize yamlconf.Size `yaml:"max_msg_size"`
	// Duplicates is the window within which a message with the same
	// Nats-Msg-Id is stored once.
	Duplicates time.Duration `yaml:"duplicates"`
	// Replicas is the number of stream replicas (1 on a single server, 3
	// on a cluster).
	Replicas int `yaml:"replicas"`
	// StateBucket is the key-value bucket of alarm states.
	StateBucket string `yaml:"state_bucket"`
	// StateHistory is how many states per alarm the bucket keeps.
	StateHistory uint8 `yaml:"state_history"`
	// DailyBucket is the key-value bucket of daily inspection records.
	DailyBucket string `yaml:"daily_bucket"`
	// DailyHistory is how many revisions per daily record are kept.
	DailyHistory uint8 `yaml:"daily_history"`
	// DailyMaxAge is how long daily records are kept; 0 keeps them for
	// ever (a room's record is a few kilobytes a day).
	DailyMaxAge time.Duration `yaml:"daily_max_age"`
}

// DefaultConfig returns the defaults: ROOMWATCH_ALARMS_<site>, 400 days,
// DefaultAlarmMaxBytes per site, 64 KiB messages, a 2 h duplicate window, 1 replica, buckets
// roomwatch_alarm_state (history 5) and roomwatch_daily (history 2).
func DefaultConfig() Config {
	return Config{
		StreamPrefix: "ROOMWATCH_ALARMS",
		MaxAge:       AlarmRetentionDays * 24 * time.Hour,
		MaxBytes:     DefaultAlarmMaxBytes,
		MaxMsgSize:   64 << 10,
		Duplicates:   2 * time.Hour,
		Replicas:     1,
		StateBucket:  "roomwatch_alarm_state",
		StateHistory: 5,
		DailyBucket:  "roomwatch_daily",
		DailyHistory: 2,
	}
}

// Defaults fills zero fields of c from DefaultConfig.
func (c *Config) Defaults() {
	d := DefaultConfig()
	if c.StreamPrefix == "" {
		c.StreamPrefix = d.StreamPrefix
	}
	if c.MaxAge == 0 {
		c.MaxAge = d.MaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = d.MaxMsgSize
	}
	if c.Duplicates == 0 {
		c.Duplicates = d.Duplicates
	}
	if c.Replicas == 0 {
		c.Replicas = d.Replicas
	}
	if c.StateBucket == "" {
		c.StateBucket = d.StateBucket
	}
	if c.StateHistory == 0 {
		c.StateHistory = d.StateHistory
	}
	if c.DailyBucket == "" {
		c.DailyBucket = d.DailyBucket
	}
	if c.DailyHistory == 0 {
		c.DailyHistory = d.DailyHistory
	}
}

// Validate adds every problem of c to errs, naming fields under path
// (e.g. "alerts").
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	if err := checkName("name", c.StreamPrefix); err != nil {
		errs.Addf(path+".stream_prefix", "%v", err)
	}
	if c.MaxAge < 0 {
		errs.Addf(path+".max_age", "must not be negative")
	}
	if c.MaxBytes < 0 {
		errs.Addf(path+".max_bytes", "must not be negative")
	}
	if c.MaxMsgSize < 1024 || c.MaxMsgSize > 8<<20 {
		errs.Addf(path+".max_msg_size", "%s: want 1KiB to 8MiB", c.MaxMsgSize)
	}
	if c.Duplicates <= 0 {
		errs.Addf(path+".duplicates", "must be positive")
	} else if c.MaxAge > 0 && c.Duplicates > c.MaxAge {
		errs.Addf(path+".duplicates", "must not exceed max_age")
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs.Addf(path+".replicas", "must be 1 to 5")
	}
	if err := checkName("name", c.StateBucket); err != nil {
		errs.Addf(path+".state_bucket", "%v", err)
	}
	if c.StateHistory < 1 || c.StateHistory > 64 {
		errs.Addf(path+".state_history", "must be 1 to 64")
	}
	if err := checkName("name", c.DailyBucket); err != nil {
		errs.Addf(path+".daily_bucket", "%v", err)
	}
	if c.DailyHistory < 1 || c.DailyHistory > 64 {
		errs.Addf(path+".daily_history", "must be 1 to 64")
	}
	if c.DailyMaxAge < 0 {
		errs.Addf(path+".daily_max_age", "must not be negative")
	}
}

// StreamConfig returns the configuration of site's alarm stream:
// subjects roomwatch.alarm.<site>.>, a record stream (RecordStreamConfig)
// bounded by MaxBytes too, with the duplicate window that makes
// re-publishing idempotent.
func (c Config) StreamConfig(site string) jetstream.StreamConfig {
	s := c.RecordStreamConfig(AlarmStreamName(c.StreamPrefix, site), "roomwatch alarms of site "+site, SiteAlarmSubjects(site))
	s.MaxBytes = int64(c.MaxBytes)
	s.Duplicates = c.Duplicates
	s.AllowDirect = true
	return s
}

// RecordStreamConfig returns the configuration of a stream of audit
// records (alarms, acknowledgements, delivery records) on subjects:
// file storage, limits retention bounded by age (MaxAge, as the alarms)
// with the oldest discarded, MaxMsgSize, and no deletes of single
// messages.
func (c Config) RecordStreamConfig(name, description, subjects string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    []string{subjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge,
		MaxMsgSize:  int32(c.MaxMsgSize),
		MaxMsgs:     -1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		DenyDelete:  true,
	}
}

// StateBucketConfig returns the configuration of the alarm state bucket.
func (c Config) StateBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:       c.StateBucket,
		Description:  "roomwatch alarm states by <site>.<fingerprint>",
		History:      c.StateHistory,
		MaxValueSize: int32(c.MaxMsgSize),
		Storage:      jetstream.FileStorage,
		Replicas:     c.Replicas,
	}
}

// DailyBucketConfig returns the configuration of the daily record bucket.
func (c Config) DailyBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:       c.DailyBucket,
		Description:  "roomwatch daily inspection records by <site>.<room>.<yyyy-mm-dd>",
		History:      c.DailyHistory,
		TTL:          c.DailyMaxAge,
		MaxValueSize: 1 << 20,
		Storage:      jetstream.FileStorage,
		Replicas:     c.Replicas,
	}
}

// EnsureStreams creates, or updates to cfg, site's alarm stream, the
// acknowledgement stream (ROOMWATCH_ACKS, shared by all sites), the alarm
// state bucket and the daily record bucket. It is idempotent and is called
// by the monitor at start and on reload.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, site string, cfg Config) error {
	cfg.Defaults()
	if site == "" {
		return fmt.Errorf("alarm streams: empty site")
	}
	for _, sc := range []jetstream.StreamConfig{cfg.StreamConfig(site), cfg.AckStreamConfig()} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("stream %s: create or update: %w", sc.Name, err)
		}
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, cfg.StateBucketConfig()); err != nil {
		return fmt.Errorf("alarm state bucket %s: create or update: %w", cfg.StateBucket, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, cfg.DailyBucketConfig()); err != nil {
		return fmt.Errorf("daily record bucket %s: create or update: %w", cfg.DailyBucket, err)
	}
	return nil
}
