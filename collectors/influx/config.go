// Package influx moves SampleSets from the collectors into InfluxDB through
// a durable spool, so that an InfluxDB outage of hours, a crash (kill -9)
// or a restart of the monitor loses nothing within the spool's bound.
//
// The spool is a JetStream stream (file storage, work-queue retention,
// bounded by bytes and age, discarding the oldest data first). Spool.Publish
// hands a SampleSet to it without ever blocking a collector: the set is
// encoded at once as InfluxDB line protocol (see schema.go) and published
// with the other sets of its burst of polls as one message. The Writer is
// a durable pull consumer on that stream: it fetches batches of messages,
// writes their lines in one request and acknowledges the messages only
// after InfluxDB accepted them. A batch InfluxDB rejects as
// malformed (HTTP 400/422) is split until the offending lines are isolated;
// they are logged with the line, counted and dropped, and the rest is
// written. Transient failures are retried with a capped backoff for as long
// as it takes; the spool holds the data meanwhile.
//
// Exactly once per timestamp: InfluxDB identifies a point by measurement,
// tag set and timestamp, and a second write of the same point overwrites
// the first. Every sample is written with its poll time as timestamp, so a
// redelivered batch (after a crash before the ack) overwrites itself and
// never duplicates.
package influx

import (
	"net/url"
	"strings"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Defaults of Config and SpoolConfig.
const (
	DefaultPrecision = "ms"
	// DefaultBatchSize is about 5000 sample sets of 12 values (under
	// 1 KiB of line protocol each).
	DefaultBatchSize yamlconf.Size = 5000 << 10
	// DefaultFlushInterval is Telegraf's: every write to InfluxDB (fetch,
	// request, acknowledgement, consumer state on disk) costs about 2 ms
	// of CPU, so a write a second is a fifth of an idle monitor's CPU.
	// Alarms and the daily record never wait for InfluxDB.
	DefaultFlushInterval = 10 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultStream        = "ROOMWATCH_SAMPLES"
	DefaultSubjectPrefix = "roomwatch.samples"
	DefaultDurable       = "influx"
	// DefaultHold is how much data the default spool bound holds.
	DefaultHold = 72 * time.Hour
	// DefaultMaxAge drops samples older than a week even if they fit.
	DefaultMaxAge = 7 * 24 * time.Hour
	// MinMaxBytes is the floor of a computed default spool size.
	MinMaxBytes = 256 << 20
	// DefaultQueue is how many SampleSets wait in memory for the spool.
	DefaultQueue = 20000
	// DefaultPersist is the samples stream's persist mode (see SpoolConfig.Persist).
	DefaultPersist = "async"
	// DefaultLinger is how long sample sets collect in memory before they
	// go to the spool as one message.
	DefaultLinger = 100 * time.Millisecond
	// DefaultBatchBytes bounds one spool message (NATS allows 1 MiB).
	DefaultBatchBytes = 256 << 10
)

// Config configures the InfluxDB writer and its spool (the `influx:` block).
//
// InfluxDB 1.8+ through its v2 compatibility API: bucket "db/rp" (or "db"),
// token "user:password" (or empty without auth), org ignored.
// InfluxDB 2.x and 3.x: org, bucket and an API token.
type Config struct {
	URL   string          `yaml:"url"`
	Token yamlconf.Secret `yaml:"token"`
	Org   string          `yaml:"org"`
	// Bucket is the 2.x/3.x bucket, or "database/retention-policy" for 1.8.
	Bucket string `yaml:"bucket"`
	// Precision of the written timestamps: ns, us, ms or s.
	Precision string `yaml:"precision"`
	// TLSCA is a PEM file of CA certificates to trust for an https URL.
	TLSCA              string `yaml:"tls_ca"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// Timeout bounds one HTTP write request.
	Timeout time.Duration `yaml:"timeout"`
	// BatchSize is the most spool messages, in bytes, the writer fetches
	// and writes in one request ("5MiB"; a sample set of 12 values is
	// under 1 KiB of line protocol, so 5MiB is about 5000 sample sets).
	BatchSize yamlconf.Size `yaml:"batch_size"`
	// FlushInterval is the longest a sample waits in the spool for a
	// batch to fill: how far InfluxDB may lag behind the polls.
	FlushInterval time.Duration `yaml:"flush_interval"`
	Spool         SpoolConfig   `yaml:"spool"`
}

// SpoolConfig configures the JetStream stream that holds samples until
// InfluxDB accepted them.
type SpoolConfig struct {
	// Stream is the JetStream stream name.
	Stream string `yaml:"stream"`
	// Subject prefix; a site's samples go to <prefix>.<site>.
	SubjectPrefix string `yaml:"subject_prefix"`
	// MaxBytes bounds the spool on disk; 0 means DefaultMaxBytes of the
	// configured devices (set by the caller, which knows them).
	MaxBytes yamlconf.Size `yaml:"max_bytes"`
	// MaxAge drops samples older than this.
	MaxAge time.Duration `yaml:"max_age"`
	// Queue is about how many SampleSets wait in memory while the spool
	// is slow; beyond it the oldest batch is dropped and counted.
	Queue int `yaml:"queue"`
	// Linger is how long polled sample sets collect in memory before they
	// are published to the spool as one message (0: at once, one message
	// per sample set when polls are spread out). A longer linger costs less
	// CPU; a crash loses what is lingering, as it loses a poll in progress.
	Linger time.Duration `yaml:"linger"`
	// BatchBytes bounds one spool message; a batch that reaches it is
	// published without waiting for Linger.
	BatchBytes yamlconf.Size `yaml:"-"`
	// Precision of the spooled lines' timestamps: the writer's (Config's
	// Precision, set by the caller), so that it writes them as they are;
	// empty: ns.
	Precision string `yaml:"-"`
	// Persist is "async" (default: the stream is written to disk by a
	// background flusher within milliseconds and fsynced every
	// sync_interval of the NATS server, which lets the rest of the server
	// run with sync always) or "sync" (written before the publish is
	// acknowledged, fsynced per the server's setting).
	Persist string `yaml:"persist"`
	// Durable is the writer's consumer name.
	Durable string `yaml:"durable"`
	// AckWait is how long a fetched batch stays invisible to another
	// writer before it is redelivered (after a crash). The writer extends
	// it while it retries.
	AckWait time.Duration `yaml:"ack_wait"`
	// MonitorInterval is how often depth, age and drops are checked (a
	// stream info request, a dozen goroutine wake-ups on both ends: as
	// often as the writer pulls, the pace at which the depth changes).
	MonitorInterval time.Duration `yaml:"-"`
}

// DefaultConfig returns a Config with every default set, to decode into.
func DefaultConfig() Config {
	return Config{
		Precision:     DefaultPrecision,
		Timeout:       DefaultTimeout,
		BatchSize:     DefaultBatchSize,
		FlushInterval: DefaultFlushInterval,
		Spool:         DefaultSpoolConfig(),
	}
}

// DefaultSpoolConfig returns a SpoolConfig with every default set
// (MaxBytes 0: see DefaultMaxBytes).
func DefaultSpoolConfig() SpoolConfig {
	return SpoolConfig{
		Stream:          DefaultStream,
		SubjectPrefix:   DefaultSubjectPrefix,
		MaxAge:          DefaultMaxAge,
		Queue:           DefaultQueue,
		Linger:          DefaultLinger,
		BatchBytes:      DefaultBatchBytes,
		Persist:         DefaultPersist,
		Durable:         DefaultDurable,
		AckWait:         time.Minute,
		MonitorInterval: DefaultFlushInterval,
	}
}

// Validate records every problem of c under path (e.g. "influx").
func (c *Config) Validate(errs *yamlconf.Errors, path string) {
	p := func(f string) string { return yamlconf.Join(path, f) }
	if c.URL == "" {
		errs.Addf(p("url"), "required (e.g. http://127.0.0.1:8086)")
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.Addf(p("url"), "%q is not an http:// or https:// URL", c.URL)
	} else if port := u.Port(); port != "" {
		if err := yamlconf.CheckPort(port); err != nil {
			errs.Addf(p("url"), "%q: %v", c.URL, err)
		}
	}
	if c.Bucket == "" {
		errs.Addf(p("bucket"), `required ("database/retention-policy" or "database" for InfluxDB 1.8, the bucket for 2.x/3.x)`)
	}
	if _, ok := precisions[c.Precision]; !ok {
		errs.Addf(p("precision"), "%q is not one of ns, us, ms, s", c.Precision)
	}
	if c.TLSCA != "" && !strings.HasPrefix(c.URL, "https://") {
		errs.Addf(p("tls_ca"), "set, but url is not https://")
	}
	if c.Timeout <= 0 {
		errs.Addf(p("timeout"), "must be positive")
	}
	if c.BatchSize < minBatchSize || c.BatchSize > maxBatchSize {
		errs.Addf(p("batch_size"), "%s: must be between %s and %s (write 5MiB)", c.BatchSize, minBatchSize, maxBatchSize)
	}
	if c.FlushInterval <= 0 {
		errs.Addf(p("flush_interval"), "must be positive")
	}
	c.Spool.Validate(errs, p("spool"))
}

// Validate records every problem of c under path (e.g. "influx.spool").
func (c *SpoolConfig) Validate(errs *yamlconf.Errors, path string) {
	p := func(f string) string { return yamlconf.Join(path, f) }
	if !validName(c.Stream) {
		errs.Addf(p("stream"), "%q is not a valid stream name (letters, digits, _ and -)", c.Stream)
	}
	if c.SubjectPrefix == "" || strings.ContainsAny(c.SubjectPrefix, " *>\t") || strings.HasPrefix(c.SubjectPrefix, ".") || strings.HasSuffix(c.SubjectPrefix, ".") {
		errs.Addf(p("subject_prefix"), "%q is not a valid subject prefix", c.SubjectPrefix)
	}
	if c.MaxBytes < 0 {
		errs.Addf(p("max_bytes"), "must not be negative")
	} else if c.MaxBytes > 0 && c.MaxBytes < 1<<20 {
		errs.Addf(p("max_bytes"), "%s is too small (at least 1MiB)", c.MaxBytes)
	}
	if c.MaxAge < 0 {
		errs.Addf(p("max_age"), "must not be negative (0 means no age limit)")
	}
	if c.Queue <= 0 {
		errs.Addf(p("queue"), "must be positive")
	}
	if c.Linger < 0 || c.Linger > 5*time.Second {
		errs.Addf(p("linger"), "must be between 0 and 5s, got %v", c.Linger)
	}
	if c.Persist != "async" && c.Persist != "sync" {
		errs.Addf(p("persist"), "%q is not async or sync", c.Persist)
	}
	if !validName(c.Durable) {
		errs.Addf(p("durable"), "%q is not a valid consumer name", c.Durable)
	}
	if c.AckWait < time.Second {
		errs.Addf(p("ack_wait"), "must be at least 1s")
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Bounds of Config.BatchSize.
const (
	minBatchSize yamlconf.Size = 64 << 10
	maxBatchSize yamlconf.Size = 100 << 20
)
